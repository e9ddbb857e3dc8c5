"""Operator clean-up of breakout trees."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from conversations.models import Conversation
from conversations.services.lifecycle import conversations_delete


@dataclass(frozen=True)
class OrphanRoom:
    id: int
    token: str
    name: str
    parent_token: str


@transaction.atomic
def breakout_orphans_remove(*, dry_run: bool) -> list[OrphanRoom]:
    """Delete the orphan breakout rooms and return them (with ``dry_run`` only return them).

    An orphan is a breakout room whose parent is not configured (``breakout_room_mode`` 0), the
    state the reference leaves behind after a configure with mode 0 or a partly failed remove.
    A breakout room whose parent is gone cannot exist here: the foreign key deletes breakout
    rooms with their parent.

    Invariant kept: a configured parent never loses a room. The unconfigured parents are locked
    first (ascending id, the tree lock order) and only rooms of parents that are still
    unconfigured under that lock are deleted, so a concurrent configure either commits first
    (its parent is no longer mode 0 and is skipped) or waits for this transaction. Queries do
    not grow with the number of rooms: one read, one lock, one DELETE each for the rooms' reactions,
    reminders, poll votes and polls, then Django's cascading delete.
    """
    orphans = list(
        Conversation.objects.filter(
            parent__isnull=False, parent__breakout_room_mode=Conversation.BreakoutMode.NOT_CONFIGURED
        )
        .select_related("parent")
        .order_by("id")
    )
    if dry_run or not orphans:
        return [_orphan(room) for room in orphans]
    # The tree lock, for many parents at once: a configure of one of them must not interleave.
    locked_parent_ids = set(
        Conversation.objects.select_for_update()
        .filter(
            pk__in={room.parent_id for room in orphans}, breakout_room_mode=Conversation.BreakoutMode.NOT_CONFIGURED
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    removed = [room for room in orphans if room.parent_id in locked_parent_ids]
    if removed:
        conversations_delete(Conversation.objects.filter(pk__in=[room.pk for room in removed]))
    return [_orphan(room) for room in removed]


def _orphan(room: Conversation) -> OrphanRoom:
    return OrphanRoom(id=room.pk, token=room.token, name=room.name, parent_token=room.object_id)
