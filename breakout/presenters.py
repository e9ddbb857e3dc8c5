"""The response bodies of the breakout endpoints, in one place. The room and participant
objects themselves (contract 3.2-3.4) are formatted by ``conversations``."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from breakout.selectors import (
    breakout_listing_parent,
    breakout_participants_for_attendee,
    breakout_sees_every_room,
)
from conversations.models import Attendee, Conversation
from conversations.presenters import (
    breakout_tree_payloads_for_user,
    caller_room_payload,
    participant_payload,
    room_payload_for_user,
    room_payload_limited,
)
from conversations.selectors import breakout_listing_caller_rooms


def breakout_tree_present(*, user: User, parent: Conversation) -> list[dict[str, Any]]:
    """Configure, start, stop, broadcast, reorganize: the breakout rooms ``user`` is in by
    ascending id, then the parent."""
    return breakout_tree_payloads_for_user(user=user, parent=parent)


def room_present(*, user: User, room: Conversation) -> dict[str, Any]:
    """Remove (the parent), assistance (the breakout room) and switch (the target room, for the
    caller's row in it: decision 10)."""
    return room_payload_for_user(user=user, room=room)


def breakout_rooms_present(*, user: User, attendee: Attendee) -> list[dict[str, Any]]:
    """``GET /v4/room/{parent}/breakout-rooms`` for the caller whose parent row is ``attendee``:
    the visible breakout rooms by ascending id, in the full format where the caller is an
    attendee and in the limited format (contract 3.3) elsewhere. One query."""
    parent = breakout_listing_parent(attendee=attendee)
    listing = breakout_listing_caller_rooms(user=user, parent=parent)
    if not breakout_sees_every_room(attendee):
        return [caller_room_payload(own) for _, own in listing if own is not None]
    return [caller_room_payload(own) if own is not None else room_payload_limited(room) for room, own in listing]


def breakout_participants_present(*, attendee: Attendee, include_status: bool) -> list[dict[str, Any]]:
    """``GET /v4/room/{parent}/breakout-rooms/participants``: one entry per attendee per room."""
    return [
        participant_payload(row, room=row.room, include_status=include_status)
        for row in breakout_participants_for_attendee(attendee=attendee)
    ]
