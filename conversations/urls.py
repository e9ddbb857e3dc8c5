from __future__ import annotations

from django.urls import path

from conversations import live_views, views

ROOM = "apps/spreed/api/v4/room/<token:token>"

urlpatterns = [
    path("apps/spreed/api/v4/room", views.RoomViewSet.as_view({"get": "list", "post": "create"}), name="room-list"),
    path(
        ROOM,
        views.RoomViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"}),
        name="room-detail",
    ),
    path(f"{ROOM}/description", views.RoomDescriptionView.as_view(), name="room-description"),
    path(f"{ROOM}/participants", views.ParticipantsView.as_view(), name="room-participants"),
    path(f"{ROOM}/participants/self", views.ParticipantSelfView.as_view(), name="room-participant-self"),
    path(f"{ROOM}/attendees", views.AttendeesView.as_view(), name="room-attendees"),
    path(f"{ROOM}/moderators", views.ModeratorsView.as_view(), name="room-moderators"),
    path(f"{ROOM}/webinar/lobby", views.LobbyView.as_view(), name="room-lobby"),
    path(f"{ROOM}/listable", views.ListableView.as_view(), name="room-listable"),
    path(f"{ROOM}/public", views.PublicView.as_view(), name="room-public"),
    path(f"{ROOM}/password", views.PasswordView.as_view(), name="room-password"),
    path(f"{ROOM}/message-expiration", views.MessageExpirationView.as_view(), name="room-message-expiration"),
    path("apps/spreed/api/v1/chat/<token:token>", live_views.chat, name="chat"),  # long polling (issue 9)
]
