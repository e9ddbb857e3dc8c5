"""Talk's fixed breakout URLs, each bound explicitly to the ViewSet's actions (no router: the
protocol dictates the paths and methods)."""

from __future__ import annotations

from django.urls import path

from breakout.views import BreakoutRoomViewSet

V1 = "apps/spreed/api/v1/breakout-rooms/<token:token>"
V4 = "apps/spreed/api/v4/room/<token:token>/breakout-rooms"

urlpatterns = [
    path(V1, BreakoutRoomViewSet.as_view({"post": "configure", "delete": "remove"}), name="breakout-rooms"),
    path(f"{V1}/rooms", BreakoutRoomViewSet.as_view({"post": "start", "delete": "stop"}), name="breakout-rooms-state"),
    path(f"{V1}/broadcast", BreakoutRoomViewSet.as_view({"post": "broadcast"}), name="breakout-rooms-broadcast"),
    path(f"{V1}/attendees", BreakoutRoomViewSet.as_view({"post": "reorganize"}), name="breakout-rooms-attendees"),
    path(
        f"{V1}/request-assistance",
        BreakoutRoomViewSet.as_view({"post": "request_assistance", "delete": "reset_assistance"}),
        name="breakout-rooms-assistance",
    ),
    path(
        f"{V1}/timer",
        BreakoutRoomViewSet.as_view({"put": "timer_set", "delete": "timer_clear"}),
        name="breakout-rooms-timer",
    ),
    path(
        f"{V1}/open",
        BreakoutRoomViewSet.as_view({"post": "room_open", "delete": "room_close"}),
        name="breakout-rooms-open",
    ),
    path(f"{V1}/assistance", BreakoutRoomViewSet.as_view({"get": "assistance_queue"}), name="breakout-rooms-queue"),
    path(
        f"{V1}/assistance/claim",
        BreakoutRoomViewSet.as_view({"post": "assistance_claim"}),
        name="breakout-rooms-assistance-claim",
    ),
    path(f"{V1}/shuffle", BreakoutRoomViewSet.as_view({"post": "shuffle"}), name="breakout-rooms-shuffle"),
    path(f"{V1}/history", BreakoutRoomViewSet.as_view({"get": "history"}), name="breakout-rooms-history"),
    path(
        f"{V1}/templates",
        BreakoutRoomViewSet.as_view({"get": "template_list", "post": "template_save"}),
        name="breakout-rooms-templates",
    ),
    path(
        f"{V1}/templates/<int:template_id>",
        BreakoutRoomViewSet.as_view({"delete": "template_delete"}),
        name="breakout-rooms-template",
    ),
    path(
        f"{V1}/templates/<int:template_id>/apply",
        BreakoutRoomViewSet.as_view({"post": "template_apply"}),
        name="breakout-rooms-template-apply",
    ),
    path(f"{V1}/switch", BreakoutRoomViewSet.as_view({"post": "switch"}), name="breakout-rooms-switch"),
    path(V4, BreakoutRoomViewSet.as_view({"get": "list"}), name="breakout-rooms-list"),
    path(
        f"{V4}/participants",
        BreakoutRoomViewSet.as_view({"get": "participants"}),
        name="breakout-rooms-participants",
    ),
]
