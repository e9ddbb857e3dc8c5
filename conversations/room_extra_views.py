"""Conversation endpoints of the Talk surface (issue 10): favorites, notification levels,
read-only and permissions. Each answers the conversation as Talk 20 does (the attendee
permissions endpoint answers the changed participant)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from conversations import views
from conversations.presenters import participant_payload
from conversations.serializers import (
    AttendeePermissionsInput,
    AvatarEmojiInput,
    LevelInput,
    PermissionsInput,
    StateInput,
)
from conversations.services import attendee_settings, avatars
from project.errors import BadRequest
from project.ocs.schema import ocs_body, ocs_responses


class FavoriteView(views.RoomView):
    def post(self, request: Request, token: str) -> Response:
        """Add the conversation to the caller's favorites."""
        return self._favorite_set(token, favorite=True)

    def delete(self, request: Request, token: str) -> Response:
        """Remove the conversation from the caller's favorites."""
        return self._favorite_set(token, favorite=False)

    def _favorite_set(self, token: str, *, favorite: bool) -> Response:
        attendee = self.get_attendee(token)
        attendee_settings.attendee_favorite_set(attendee=attendee, favorite=favorite)
        return self.room_response(attendee.room)


class NotificationLevelView(views.RoomView):
    """``/notify``: the caller's chat notification level (0 default, 1 always, 2 mentions, 3
    never); bound with ``calls=True`` to ``/notify-calls``: call notifications (0 off, 1 on)."""

    calls = False

    @extend_schema(request=ocs_body(LevelInput), responses=ocs_responses(_400="level"))
    def post(self, request: Request, token: str) -> Response:
        """Set the caller's notification level: ``/notify`` for the chat (0 default, 1 always, 2
        mentions, 3 never), ``/notify-calls`` for calls (0 off, 1 on). 200 with the conversation."""
        attendee = self.get_attendee(token)
        choices = attendee_settings.NOTIFICATION_CALL_LEVELS if self.calls else attendee_settings.NOTIFICATION_LEVELS
        level = LevelInput.from_request(request, choices=choices)["level"]
        if self.calls:
            attendee_settings.attendee_notification_calls_set(attendee=attendee, level=level)
        else:
            attendee_settings.attendee_notification_level_set(attendee=attendee, level=level)
        return self.room_response(attendee.room)


class ReadOnlyView(views.RoomView):
    @extend_schema(
        request=ocs_body(StateInput),
        responses=ocs_responses(_400="state, type, value"),
    )
    def put(self, request: Request, token: str) -> Response:
        """Lock (1) or unlock (0) the chat (moderators; group and public conversations)."""
        attendee = self.get_attendee(token, moderator=True)
        state = StateInput.from_request(request)["state"]
        room = attendee_settings.conversation_read_only_set(actor=self.actor, attendee=attendee, state=state)
        return self.room_response(room)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "mode", OpenApiTypes.STR, OpenApiParameter.PATH, pattern="^[a-z]+$", description="default (call: removed)"
        )
    ]
)
class PermissionsView(views.RoomView):
    @extend_schema(
        request=ocs_body(PermissionsInput),
        responses=ocs_responses(_400="mode, type, breakout-room, permissions, value"),
    )
    def put(self, request: Request, token: str, mode: str) -> Response:
        """The conversation's default permissions (moderators): resets attendees' own ones."""
        attendee = self.get_attendee(token, moderator=True)
        if mode != "default":  # Talk checks the mode before the permissions
            raise BadRequest("mode")
        permissions = PermissionsInput.from_request(request)["permissions"]
        room = attendee_settings.conversation_default_permissions_set(
            attendee=attendee, mode=mode, permissions=permissions
        )
        return self.room_response(room)


class AttendeePermissionsView(views.RoomView):
    @extend_schema(
        request=ocs_body(AttendeePermissionsInput),
        responses=ocs_responses(
            _400="attendeeId, method, permissions, room-type, type, value", _403="moderator", _404="participant"
        ),
    )
    def put(self, request: Request, token: str) -> Response:
        """Set, add or remove permissions of one attendee (moderators): 200 with that participant."""
        attendee = self.get_attendee(token, moderator=True)
        values = AttendeePermissionsInput.from_request(request)
        target = attendee_settings.attendee_permissions_set(
            attendee=attendee,
            attendee_id=values["attendeeId"],
            method=values["method"],
            permissions=values["permissions"],
        )
        return Response([participant_payload(target, room=attendee.room)])


class AvatarEmojiView(views.RoomView):
    @extend_schema(
        request=ocs_body(AvatarEmojiInput),
        responses=ocs_responses(_400="emoji, color, type"),
    )
    def post(self, request: Request, token: str) -> Response:
        """Give the conversation an emoji picture (moderators): 200 with the conversation."""
        attendee = self.get_attendee(token, moderator=True)
        values = AvatarEmojiInput.from_request(request)
        room = avatars.conversation_avatar_emoji_set(
            actor=self.actor, attendee=attendee, emoji=values["emoji"], color=values["color"]
        )
        return self.room_response(room)
