"""Breakout-room endpoints (contract 1.1-1.11). Each view: access checks through
``RoomView.get_attendee``, parameters, one service or selector call, the response body."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from breakout import selectors
from breakout.services import lifecycle
from conversations.presenters import breakout_tree_payloads_for_user, room_payload_for_user
from conversations.views import RoomView
from project.ocs.params import parse_strict_int
from project.ocs.schema import (
    ROOM_LIST,
    TOKEN_PATTERN,
    int_field,
    ocs_body,
    ocs_responses,
    query_param,
    str_field,
)

ATTENDEE_MAP_HELP = (
    'JSON object: attendee id in the parent -> 0-based room index (ascending id order), e.g. \'{"17": 0, "18": 1}\''
)


class BreakoutView(RoomView):
    def optional_int(self, name: str) -> int | None:
        """An integer parameter, or None when it is missing or malformed: the service raises
        its error key at its place in the contract's validation order."""
        value = self.params.raw(name)
        return None if value is None else parse_strict_int(value)

    def optional_str(self, name: str, default: Any = None) -> str | None:
        value = self.params.raw(name, default)
        return value if isinstance(value, str) else None

    def tree_response(self, parent: Any, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(breakout_tree_payloads_for_user(user=self.request.user, parent=parent), status=status_code)


class BreakoutRoomsView(BreakoutView):
    """``/v1/breakout-rooms/{parent}``: configure (POST) and remove (DELETE)."""

    @extend_schema(
        operation_id="breakout_room-configure-breakout-rooms",
        summary="Configure breakout rooms",
        request=ocs_body(
            "BreakoutConfigureRequest",
            mode=int_field(choices={1: "automatic", 2: "manual", 3: "free"}),
            amount=int_field(min_value=1, max_value=20, help_text="Number of breakout rooms"),
            attendeeMap=str_field(required=False, default="[]", help_text=ATTENDEE_MAP_HELP + " (mode 2 only)"),
        ),
        responses=ocs_responses(data=ROOM_LIST, _400="config, room, mode, amount, attendeeMap"),
    )
    def post(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        parent = lifecycle.breakout_configure(
            actor=request.user,
            parent=parent,
            mode=self.optional_int("mode"),
            amount=self.optional_int("amount"),
            attendee_map_raw=self.optional_str("attendeeMap", default="[]"),
        )
        return self.tree_response(parent)

    @extend_schema(operation_id="breakout_room-remove-breakout-rooms", summary="Remove breakout rooms")
    def delete(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        parent = lifecycle.breakout_remove(actor=request.user, parent=parent)
        return Response(room_payload_for_user(user=request.user, room=parent))


class BreakoutRoomsStateView(BreakoutView):
    """``/v1/breakout-rooms/{parent}/rooms``: start (POST) and stop (DELETE)."""

    @extend_schema(
        operation_id="breakout_room-start-breakout-rooms",
        summary="Start breakout rooms",
        responses=ocs_responses(data=ROOM_LIST, _400="mode"),
    )
    def post(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        return self.tree_response(lifecycle.breakout_start(actor=request.user, parent=parent))

    @extend_schema(
        operation_id="breakout_room-stop-breakout-rooms",
        summary="Stop breakout rooms",
        responses=ocs_responses(data=ROOM_LIST, _400="mode"),
    )
    def delete(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        return self.tree_response(lifecycle.breakout_stop(actor=request.user, parent=parent))


class BroadcastView(BreakoutView):
    @extend_schema(
        operation_id="breakout_room-broadcast-chat-message",
        summary="Broadcast a chat message to all breakout rooms",
        request=ocs_body(
            "BreakoutBroadcastRequest",
            message=str_field(help_text="At most 32000 characters after trimming (longer: 413)"),
        ),
        responses=ocs_responses(status.HTTP_201_CREATED, data=ROOM_LIST, _400="mode", _413="message"),
    )
    def post(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        parent = lifecycle.breakout_broadcast(actor=request.user, parent=parent, message=self.optional_str("message"))
        return self.tree_response(parent, status_code=status.HTTP_201_CREATED)


class ReorganizeView(BreakoutView):
    @extend_schema(
        operation_id="breakout_room-apply-attendee-map",
        summary="Reorganize attendees",
        request=ocs_body("BreakoutAttendeeMapRequest", attendeeMap=str_field(help_text=ATTENDEE_MAP_HELP)),
        responses=ocs_responses(data=ROOM_LIST, _400="config, mode, attendeeMap, moderator"),
    )
    def post(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        parent = lifecycle.breakout_reorganize(
            actor=request.user, parent=parent, attendee_map=self.optional_str("attendeeMap")
        )
        return self.tree_response(parent)


class AssistanceView(BreakoutView):
    """``/v1/breakout-rooms/{breakout room}/request-assistance``: request (POST), reset (DELETE)."""

    @extend_schema(
        operation_id="breakout_room-request-assistance",
        summary="Request assistance (token: a breakout room)",
        responses=ocs_responses(_400="room"),
    )
    def post(self, request: Request, token: str) -> Response:
        room = self.get_attendee(token).room
        room = lifecycle.assistance_request(actor=request.user, room=room)
        return Response(room_payload_for_user(user=request.user, room=room))

    @extend_schema(
        operation_id="breakout_room-reset-request-for-assistance",
        summary="Reset the request for assistance (token: a breakout room)",
        responses=ocs_responses(_400="room"),
    )
    def delete(self, request: Request, token: str) -> Response:
        room = self.get_attendee(token).room
        room = lifecycle.assistance_reset(actor=request.user, room=room)
        return Response(room_payload_for_user(user=request.user, room=room))


class SwitchView(BreakoutView):
    @extend_schema(
        operation_id="breakout_room-switch-breakout-room",
        summary="Switch breakout room (free mode, non-moderators)",
        request=ocs_body(
            "BreakoutSwitchRequest", target=str_field(help_text=f"Token of a breakout room ({TOKEN_PATTERN})")
        ),
        responses=ocs_responses(_400="mode, status, moderator, target"),
    )
    def post(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token).room
        target = lifecycle.breakout_switch(actor=request.user, parent=parent, target=self.optional_str("target"))
        # Decision 10: formatted for the caller's own attendee row in the target room.
        return Response(room_payload_for_user(user=request.user, room=target))


class BreakoutRoomListView(BreakoutView):
    @extend_schema(
        operation_id="room-get-breakout-rooms",
        summary="Get breakout rooms",
        responses=ocs_responses(data=ROOM_LIST, _400="mode, status"),
    )
    def get(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token)
        return Response(selectors.breakout_rooms_payloads_for_attendee(user=request.user, attendee=attendee))


class BreakoutParticipantListView(BreakoutView):
    @extend_schema(
        operation_id="room-get-breakout-room-participants",
        summary="Get participants of the parent and its breakout rooms",
        parameters=[query_param("includeStatus", OpenApiTypes.BOOL, description="Include user statuses")],
        responses=ocs_responses(data={"type": "array", "items": {"type": "object"}}, _400="mode, status"),
    )
    def get(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, lobby_rule=True)
        include_status = self.params.bool("includeStatus", default=False)
        return Response(
            selectors.breakout_participants_payloads_for_attendee(attendee=attendee, include_status=include_status)
        )
