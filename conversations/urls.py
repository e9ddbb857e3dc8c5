from __future__ import annotations

from django.urls import path, register_converter

from conversations import views
from project.ocs.converters import TokenConverter

register_converter(TokenConverter, "token")

urlpatterns = [
    path("apps/spreed/api/v4/room", views.RoomListView.as_view(), name="room-list"),
    path("apps/spreed/api/v4/room/<token:token>", views.RoomDetailView.as_view(), name="room-detail"),
]
