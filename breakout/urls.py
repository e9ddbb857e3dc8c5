from __future__ import annotations

from django.urls import path

from breakout import views

V1 = "apps/spreed/api/v1/breakout-rooms/<token:token>"
V4 = "apps/spreed/api/v4/room/<token:token>/breakout-rooms"

urlpatterns = [
    path(V1, views.BreakoutRoomsView.as_view(), name="breakout-rooms"),
    path(f"{V1}/rooms", views.BreakoutRoomsStateView.as_view(), name="breakout-rooms-state"),
    path(f"{V1}/broadcast", views.BroadcastView.as_view(), name="breakout-rooms-broadcast"),
    path(f"{V1}/attendees", views.ReorganizeView.as_view(), name="breakout-rooms-attendees"),
    path(f"{V1}/request-assistance", views.AssistanceView.as_view(), name="breakout-rooms-assistance"),
    path(f"{V1}/switch", views.SwitchView.as_view(), name="breakout-rooms-switch"),
    path(V4, views.BreakoutRoomListView.as_view(), name="breakout-rooms-list"),
    path(f"{V4}/participants", views.BreakoutParticipantListView.as_view(), name="breakout-rooms-participants"),
]
