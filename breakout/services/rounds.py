"""The history writes of the breakout lifecycle: rounds and assignment spans (issue 12).

Called by the lifecycle services and the tree rules inside their transaction, with the tree lock
held, each in one statement whatever the number of people: the round of a parent is found by a
subquery in the same statement (``_open_round``), never read first. Only students (non-moderators)
get spans; parent moderators are in every room by the tree's invariant.

A round is open from configure until the rooms are removed; a span is open (``closed_at`` null)
while its student is in its room.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from breakout.models import AssignmentSpan, BreakoutRound, SpanHow
from conversations.models import Attendee, Conversation
from conversations.services.primitives import AttendeeRow
from project.bulk import rows_insert

if TYPE_CHECKING:
    from breakout.services.assignment import AssignmentOptions


def _open_rounds(parent_id: int) -> QuerySet[BreakoutRound]:
    return BreakoutRound.objects.filter(parent_id=parent_id, removed_at__isnull=True)


def _open_round(parent_id: int) -> Subquery:
    """The id of the parent's open round, as a subquery usable inside an INSERT or UPDATE."""
    return Subquery(_open_rounds(parent_id).order_by("-id").values("pk")[:1])


def open_round_id(parent_id: int) -> Subquery:
    """The parent's open round, as a subquery for an INSERT of another record (no query)."""
    return _open_round(parent_id)


def round_timer_set(*, parent_id: int, ends_at: datetime | None) -> None:
    """One UPDATE: the end of the open round's timer (the last one set; kept when cleared by a
    stop, for the history)."""
    _open_rounds(parent_id).update(timer_ends_at=ends_at)


def round_open(
    *,
    actor: User | None,
    parent: Conversation,
    mode: int,
    amount: int,
    now: datetime,
    options: AssignmentOptions | None = None,
) -> BreakoutRound:
    """One INSERT: the round a configure starts."""
    return BreakoutRound.objects.create(
        parent=parent,
        mode=mode,
        amount=amount,
        seed=options.seed if options else None,
        strategy=options.strategy if options else "",
        configured_at=now,
        configured_by=actor if actor is not None and actor.pk else None,
    )


def spans_open(
    *,
    parent_id: int,
    entries: Iterable[tuple[Attendee | AttendeeRow, Conversation]],
    how: str,
    now: datetime,
    round_id: int | None = None,
) -> None:
    """One INSERT: a span per (student's attendee row, breakout room). Without ``round_id`` the
    parent's open round is found by a subquery of the INSERT itself."""
    if round_id is not None:
        # Configure places every student at once: one statement, no model instances.
        rows_insert(
            AssignmentSpan,
            columns=["user_id", "actor_id", "attendee_id", "room_token", "room_name"],
            rows=[
                (a.user_id, a.actor_id, a.pk if a.room_id == parent_id else None, room.token, room.name)
                for a, room in entries
            ],
            constants={"round_id": round_id, "opened_at": now, "how": how},
        )
        return
    round_value = _open_round(parent_id)
    rows = [
        AssignmentSpan(
            round_id=round_value,
            user_id=attendee.user_id,
            actor_id=attendee.actor_id,
            attendee_id=attendee.pk if attendee.room_id == parent_id else None,
            room_token=room.token,
            room_name=room.name,
            opened_at=now,
            how=how,
        )
        for attendee, room in entries
    ]
    if rows:
        AssignmentSpan.objects.bulk_create(rows)


def spans_close(*, parent_id: int, actor_ids: Sequence[str] | None, how: str, now: datetime) -> None:
    """One UPDATE: close the open spans of ``actor_ids`` (everyone's with ``None``) in the
    parent's open rounds."""
    spans = AssignmentSpan.objects.filter(
        round__parent_id=parent_id, round__removed_at__isnull=True, closed_at__isnull=True
    )
    if actor_ids is not None:
        if not actor_ids:
            return
        spans = spans.filter(actor_id__in=list(actor_ids))
    spans.update(closed_at=now, closed_how=how)


def round_started(*, parent_id: int, now: datetime) -> None:
    """One UPDATE: the first start of the open round."""
    _open_rounds(parent_id).update(started_at=Coalesce("started_at", Value(now)))


def round_stopped(*, parent_id: int, now: datetime) -> None:
    """One UPDATE: the last stop of the open round."""
    _open_rounds(parent_id).update(stopped_at=now)


def round_close(*, parent_id: int, now: datetime) -> None:
    """Two UPDATEs: every open span and the open round end (the rooms are removed)."""
    spans_close(parent_id=parent_id, actor_ids=None, how=SpanHow.ROUND_END, now=now)
    _open_rounds(parent_id).update(removed_at=now, stopped_at=Coalesce("stopped_at", Value(now)))


def spans_students_added(*, parent: Conversation, parent_row: Attendee, room: Conversation) -> None:
    """A student added to the breakout room ``room`` (participant endpoint): the old span closes,
    a new one opens (``added``). Three statements."""
    # A tree built before rounds existed has none: nothing to record then.
    round_id = _open_rounds(parent.pk).order_by("-id").values_list("pk", flat=True).first()
    if round_id is None:
        return
    now = timezone.now()
    spans_close(parent_id=parent.pk, actor_ids=[parent_row.actor_id], how=SpanHow.ADDED, now=now)
    spans_open(parent_id=parent.pk, round_id=round_id, entries=[(parent_row, room)], how=SpanHow.ADDED, now=now)


def spans_removed(*, room: Conversation, attendee: Attendee) -> None:
    """``attendee`` leaves or is removed from ``room`` (a breakout room, or a parent: then from
    the whole tree): their open span closes (``removed``). One statement, none outside a tree."""
    parent_id = room.parent_id if room.parent_id is not None else room.pk
    if room.parent_id is None and room.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
        return
    spans = AssignmentSpan.objects.filter(
        round__parent_id=parent_id, round__removed_at__isnull=True, closed_at__isnull=True, actor_id=attendee.actor_id
    )
    if room.parent_id is not None:
        spans = spans.filter(room_token=room.token)
    spans.update(closed_at=timezone.now(), closed_how=SpanHow.REMOVED)
