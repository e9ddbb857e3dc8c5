"""The breakout endpoints (contract 1.1-1.11) as one ViewSet whose actions are the lifecycle
verbs, bound to Talk's fixed URLs in ``breakout/urls.py``.

Each action: the access checks of contract 1.0 (``RoomView.get_attendee``), the action's input
serializer (state checks in the contract's order, then the parameters), one service called with
typed values, the response body from ``breakout.presenters``.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.viewsets import ViewSetMixin

from accounts.models import User
from breakout import presenters
from breakout.serializers import (
    BreakoutBroadcastInput,
    BreakoutConfigureInput,
    BreakoutParticipantsQuery,
    BreakoutReorganizeInput,
    BreakoutSwitchInput,
)
from breakout.services import lifecycle
from conversations.views import RoomView
from project.ocs.schema import BODY_MEDIA_TYPES, ROOM_LIST, ocs_responses


def _body(serializer: type[Serializer]) -> dict[str, Any]:
    """The request body as the input serializer reads it: JSON or a form alike."""
    return {media_type: serializer for media_type in BODY_MEDIA_TYPES}


class BreakoutRoomViewSet(ViewSetMixin, RoomView):
    """``/v1/breakout-rooms/{token}[/...]`` and ``/v4/room/{token}/breakout-rooms[/participants]``."""

    @property
    def actor(self) -> User:
        """The caller; every OCS endpoint requires a login, so it is never anonymous here."""
        return cast(User, self.request.user)

    @extend_schema(
        operation_id="breakout_room-configure-breakout-rooms",
        summary="Configure breakout rooms",
        request=_body(BreakoutConfigureInput),
        responses=ocs_responses(data=ROOM_LIST, _400="config, room, mode, amount, attendeeMap"),
    )
    def configure(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = BreakoutConfigureInput.from_request(request, parent=caller.room, caller=caller)
        parent = lifecycle.breakout_configure(actor=self.actor, parent=caller.room, **values)
        return Response(presenters.breakout_tree_present(user=self.actor, parent=parent))

    @extend_schema(operation_id="breakout_room-remove-breakout-rooms", summary="Remove breakout rooms", request=None)
    def remove(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        parent = lifecycle.breakout_remove(actor=self.actor, parent=caller.room)
        return Response(presenters.room_present(user=self.actor, room=parent))

    @extend_schema(
        operation_id="breakout_room-start-breakout-rooms",
        summary="Start breakout rooms",
        request=None,
        responses=ocs_responses(data=ROOM_LIST, _400="mode"),
    )
    def start(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        parent = lifecycle.breakout_start(actor=self.actor, parent=caller.room)
        return Response(presenters.breakout_tree_present(user=self.actor, parent=parent))

    @extend_schema(
        operation_id="breakout_room-stop-breakout-rooms",
        summary="Stop breakout rooms",
        request=None,
        responses=ocs_responses(data=ROOM_LIST, _400="mode"),
    )
    def stop(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        parent = lifecycle.breakout_stop(actor=self.actor, parent=caller.room)
        return Response(presenters.breakout_tree_present(user=self.actor, parent=parent))

    @extend_schema(
        operation_id="breakout_room-broadcast-chat-message",
        summary="Broadcast a chat message to all breakout rooms",
        request=_body(BreakoutBroadcastInput),
        responses=ocs_responses(status.HTTP_201_CREATED, data=ROOM_LIST, _400="mode", _413="message"),
    )
    def broadcast(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = BreakoutBroadcastInput.from_request(request, parent=caller.room, caller=caller)
        parent = lifecycle.breakout_broadcast(actor=self.actor, parent=caller.room, **values)
        return Response(
            presenters.breakout_tree_present(user=self.actor, parent=parent), status=status.HTTP_201_CREATED
        )

    @extend_schema(
        operation_id="breakout_room-apply-attendee-map",
        summary="Reorganize attendees",
        request=_body(BreakoutReorganizeInput),
        responses=ocs_responses(data=ROOM_LIST, _400="config, mode, attendeeMap, moderator"),
    )
    def reorganize(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = BreakoutReorganizeInput.from_request(request, parent=caller.room, caller=caller)
        parent = lifecycle.breakout_reorganize(actor=self.actor, parent=caller.room, **values)
        return Response(presenters.breakout_tree_present(user=self.actor, parent=parent))

    @extend_schema(
        operation_id="breakout_room-request-assistance",
        summary="Request assistance (token: a breakout room)",
        request=None,
        responses=ocs_responses(_400="room"),
    )
    def request_assistance(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token)
        room = lifecycle.assistance_request(actor=self.actor, room=caller.room)
        return Response(presenters.room_present(user=self.actor, room=room))

    @extend_schema(
        operation_id="breakout_room-reset-request-for-assistance",
        summary="Reset the request for assistance (token: a breakout room)",
        request=None,
        responses=ocs_responses(_400="room"),
    )
    def reset_assistance(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token)
        room = lifecycle.assistance_reset(actor=self.actor, room=caller.room)
        return Response(presenters.room_present(user=self.actor, room=room))

    @extend_schema(
        operation_id="breakout_room-switch-breakout-room",
        summary="Switch breakout room (free mode, non-moderators)",
        request=_body(BreakoutSwitchInput),
        responses=ocs_responses(_400="mode, status, moderator, target"),
    )
    def switch(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token)
        values = BreakoutSwitchInput.from_request(request, parent=caller.room, caller=caller)
        target = lifecycle.breakout_switch(actor=self.actor, parent=caller.room, **values)
        # Decision 10: formatted for the caller's own attendee row in the target room.
        return Response(presenters.room_present(user=self.actor, room=target))

    @extend_schema(
        operation_id="room-get-breakout-rooms",
        summary="Get breakout rooms",
        responses=ocs_responses(data=ROOM_LIST, _400="mode, status"),
    )
    def list(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token)
        return Response(presenters.breakout_rooms_present(user=self.actor, attendee=caller))

    @extend_schema(
        operation_id="room-get-breakout-room-participants",
        summary="Get participants of the parent and its breakout rooms",
        parameters=[BreakoutParticipantsQuery],
        responses=ocs_responses(data={"type": "array", "items": {"type": "object"}}, _400="mode, status"),
    )
    def participants(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, lobby_rule=True)
        values = BreakoutParticipantsQuery.from_request(request)
        return Response(presenters.breakout_participants_present(attendee=caller, **values))
