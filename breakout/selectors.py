"""Reads of a breakout tree as its attendees see it (contract 1.10, 1.11 and 5.2). They return
models and querysets; ``breakout.presenters`` turns them into response bodies."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from conversations.models import Attendee, Conversation
from project.errors import BadRequest, Forbidden


def breakout_listing_parent(*, attendee: Attendee) -> Conversation:
    """The parent of a listing after the mode and status checks of contract 1.10."""
    parent = attendee.room
    if parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
        raise BadRequest("mode")
    if not attendee.is_moderator and parent.breakout_room_status != Conversation.BreakoutStatus.STARTED:
        raise BadRequest("status")
    return parent


def breakout_sees_every_room(attendee: Attendee) -> bool:
    """Moderators, and students of a free-mode parent (who pick their room), see every room;
    other students only the rooms they are in (contract 5.2)."""
    return attendee.is_moderator or attendee.room.breakout_room_mode == Conversation.BreakoutMode.FREE


def breakout_participants_for_attendee(*, attendee: Attendee) -> QuerySet[Attendee]:
    """The attendees of the parent and of the breakout rooms the caller whose parent row is
    ``attendee`` may list (contract 1.11), with their rooms, by room and then attendee id; one
    query whatever the size of the tree."""
    if attendee.participant_type == Attendee.ParticipantType.GUEST:
        raise Forbidden()
    parent = breakout_listing_parent(attendee=attendee)
    rooms = Q(room=parent)
    if breakout_sees_every_room(attendee):
        rooms |= Q(room__parent=parent)
    else:
        own_room_ids = Attendee.objects.filter(
            room__parent=parent, actor_type=attendee.actor_type, actor_id=attendee.actor_id
        ).values("room_id")
        rooms |= Q(room_id__in=own_room_ids)
    return Attendee.objects.filter(rooms).select_related("room").order_by("room_id", "id")
