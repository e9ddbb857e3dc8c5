"""v4 room, participant and chat endpoints."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from conversations.models import Attendee
from conversations.selectors import attendee_get_for_user, room_payload_for_user, room_payloads_for_user
from conversations.serializers import is_held_in_lobby
from project.errors import Forbidden, PreconditionFailed
from project.ocs.views import OCSView


class RoomView(OCSView):
    """Base for endpoints on one conversation: the access checks of contract 1.0, in order."""

    def get_attendee(self, token: str, *, moderator: bool = False, lobby_rule: bool = False) -> Attendee:
        attendee = attendee_get_for_user(user=self.request.user, token=token)
        if moderator and attendee.participant_type not in Attendee.MODERATOR_TYPES:
            raise Forbidden()
        if lobby_rule and is_held_in_lobby(attendee, attendee.room):
            raise PreconditionFailed()
        return attendee


class RoomListView(OCSView):
    def get(self, request: Request) -> Response:
        return Response(room_payloads_for_user(user=request.user))


class RoomDetailView(RoomView):
    def get(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token)
        return Response(room_payload_for_user(user=request.user, room=attendee.room))
