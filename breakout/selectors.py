"""Reads of a breakout tree as its attendees see it (contract 1.10, 1.11 and 5.2)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.models import User
from conversations.models import Attendee, Conversation
from conversations.presenters import participant_payload, room_payload_limited, room_payloads_for_user
from project.errors import BadRequest, Forbidden


def _visible_rooms_check(attendee: Attendee) -> Conversation:
    """The parent of the listing after the mode and status checks of contract 1.10."""
    parent = attendee.room
    if parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
        raise BadRequest("mode")
    if not attendee.is_moderator and parent.breakout_room_status != Conversation.BreakoutStatus.STARTED:
        raise BadRequest("status")
    return parent


def _sees_every_room(attendee: Attendee) -> bool:
    """Moderators, and students of a free-mode parent (who pick their room), see every room;
    other students only the rooms they are in (contract 5.2)."""
    return attendee.is_moderator or attendee.room.breakout_room_mode == Conversation.BreakoutMode.FREE


def breakout_rooms_payloads_for_attendee(*, user: User, attendee: Attendee) -> list[dict[str, Any]]:
    """``GET /v4/room/{parent}/breakout-rooms`` for the caller whose parent row is ``attendee``:
    the visible breakout rooms by ascending id, in the full format where the caller is an
    attendee and in the limited format (contract 3.3) elsewhere. Three queries at most."""
    parent = _visible_rooms_check(attendee)
    own = room_payloads_for_user(user=user, rooms=Q(room__parent=parent))
    if not _sees_every_room(attendee):
        return own
    own_by_id = {payload["id"]: payload for payload in own}
    rooms = Conversation.objects.filter(parent=parent).select_related("parent").order_by("id")
    return [own_by_id.get(room.pk) or room_payload_limited(room) for room in rooms]


def breakout_participants_payloads_for_attendee(
    *, attendee: Attendee, include_status: bool = False
) -> list[dict[str, Any]]:
    """``GET /v4/room/{parent}/breakout-rooms/participants``: the participants of the parent and
    of the breakout rooms the caller may list, one entry per attendee per room, by room and then
    attendee id. Two queries whatever the size of the tree."""
    if attendee.participant_type == Attendee.ParticipantType.GUEST:
        raise Forbidden()
    parent = _visible_rooms_check(attendee)
    rooms = Q(room=parent)
    if _sees_every_room(attendee):
        rooms |= Q(room__parent=parent)
    else:
        own_room_ids = Attendee.objects.filter(
            room__parent=parent, actor_type=attendee.actor_type, actor_id=attendee.actor_id
        ).values("room_id")
        rooms |= Q(room_id__in=own_room_ids)
    attendees = Attendee.objects.filter(rooms).select_related("room").order_by("room_id", "id")
    return [participant_payload(a, room=a.room, include_status=include_status) for a in attendees]
