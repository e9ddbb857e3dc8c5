"""Breakout-room endpoints (contract 1.1-1.11). Each view: access checks through
``RoomView.get_attendee``, parameters, one service or selector call, the response body."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from breakout import selectors
from breakout.services import lifecycle
from conversations.selectors import breakout_tree_payloads_for_user, room_payload_for_user
from conversations.views import RoomView
from project.ocs.params import parse_strict_int


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

    def delete(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        parent = lifecycle.breakout_remove(actor=request.user, parent=parent)
        return Response(room_payload_for_user(user=request.user, room=parent))


class BreakoutRoomsStateView(BreakoutView):
    """``/v1/breakout-rooms/{parent}/rooms``: start (POST) and stop (DELETE)."""

    def post(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        return self.tree_response(lifecycle.breakout_start(actor=request.user, parent=parent))

    def delete(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        return self.tree_response(lifecycle.breakout_stop(actor=request.user, parent=parent))


class BroadcastView(BreakoutView):
    def post(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        parent = lifecycle.breakout_broadcast(actor=request.user, parent=parent, message=self.optional_str("message"))
        return self.tree_response(parent, status_code=status.HTTP_201_CREATED)


class ReorganizeView(BreakoutView):
    def post(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token, moderator=True).room
        parent = lifecycle.breakout_reorganize(
            actor=request.user, parent=parent, attendee_map=self.optional_str("attendeeMap")
        )
        return self.tree_response(parent)


class AssistanceView(BreakoutView):
    """``/v1/breakout-rooms/{breakout room}/request-assistance``: request (POST), reset (DELETE)."""

    def post(self, request: Request, token: str) -> Response:
        room = self.get_attendee(token).room
        room = lifecycle.assistance_request(actor=request.user, room=room)
        return Response(room_payload_for_user(user=request.user, room=room))

    def delete(self, request: Request, token: str) -> Response:
        room = self.get_attendee(token).room
        room = lifecycle.assistance_reset(actor=request.user, room=room)
        return Response(room_payload_for_user(user=request.user, room=room))


class SwitchView(BreakoutView):
    def post(self, request: Request, token: str) -> Response:
        parent = self.get_attendee(token).room
        target = lifecycle.breakout_switch(actor=request.user, parent=parent, target=self.optional_str("target"))
        # Decision 10: formatted for the caller's own attendee row in the target room.
        return Response(room_payload_for_user(user=request.user, room=target))


class BreakoutRoomListView(BreakoutView):
    def get(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token)
        return Response(selectors.breakout_rooms_payloads_for_attendee(user=request.user, attendee=attendee))


class BreakoutParticipantListView(BreakoutView):
    def get(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, lobby_rule=True)
        include_status = self.params.bool("includeStatus", default=False)
        return Response(
            selectors.breakout_participants_payloads_for_attendee(attendee=attendee, include_status=include_status)
        )
