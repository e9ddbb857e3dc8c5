"""Writing events into the outbox (STYLE rule 4b: what others must learn of is written, not sent).

A service that changes state calls ``events_record_bulk`` (or ``events_record`` for one event)
inside its own transaction, after its row locks. The rows commit or roll back with the change;
``transaction.on_commit`` then only wakes the waiters (long polls, streams) of every process and
host, which read the outbox themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone

from live import fanout
from live.models import Event, Retention
from project.bulk import rows_insert

# Taken by every event-writing transaction on PostgreSQL just before its INSERT and held to its
# commit. Without it two transactions could commit their ids out of order (id 7 visible before
# id 6), and a stream that already passed 7 would never deliver 6: a gap on resume. Holding it
# serialises only the tail of event-writing transactions (the insert to the commit), which is
# why events are recorded last, after the tree locks. SQLite writers are serial anyway.
EVENT_ORDER_LOCK_KEY = 0x6C697665  # "live"
CHAT_MESSAGE = "chat.message"


@dataclass(frozen=True, kw_only=True)
class NewEvent:
    """One event to record. ``token`` is the conversation it is about; ``parent_token`` is set
    when that conversation is a breakout room; ``target_user_id`` addresses it to one user (only
    they and the tree's moderators receive it); ``payload`` holds the type's own fields."""

    type: str
    token: str
    parent_token: str | None = None
    actor_id: str = ""
    target_user_id: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


def events_record_bulk(*, events: Sequence[NewEvent]) -> list[Event]:
    """Record ``events`` in the caller's transaction with one INSERT (two statements on
    PostgreSQL: the ordering lock, then the INSERT), whatever their number. Raises
    ``RuntimeError`` outside a transaction: an event must commit or roll back with its change.
    After the commit the waiters of every process are woken; after a rollback nothing happens.
    Returns the rows written; ``events_add`` and ``events_batch`` need none of them built."""
    if not events:
        return []
    now = timezone.now()
    ids = events_insert(events=events, now=now, returning=True)
    created = [
        Event(
            id=pk,
            type=event.type,
            token=event.token,
            parent_token=event.parent_token,
            actor_id=event.actor_id,
            target_user_id=event.target_user_id,
            payload=dict(event.payload),
            created_at=now,
        )
        for pk, event in zip(ids, events, strict=True)
    ]
    for row in created:
        row._state.adding = False
    return created


def events_insert(*, events: Sequence[NewEvent], now: datetime, returning: bool = False) -> list[int]:
    """The write of ``events_record_bulk``: one INSERT of plain values (``project.bulk``), no
    model instance per event; the new ids in the order of ``events`` when ``returning``."""
    if not events:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("events must be recorded inside the transaction of the change they report")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_ORDER_LOCK_KEY])
    ids = rows_insert(
        Event,
        columns=["type", "token", "parent_token", "actor_id", "target_user_id", "payload"],
        # The payload goes in as a JSON object inside the one JSON parameter, so it is encoded
        # once with the rows, not once per event.
        rows=[(e.type, e.token, e.parent_token, e.actor_id, e.target_user_id, dict(e.payload)) for e in events],
        constants={"created_at": now},
        returning=returning,
    )
    signals = [fanout.Signal(type=e.type, token=e.token, parent_token=e.parent_token) for e in events]
    transaction.on_commit(lambda: fanout.publish(signals))
    return ids


def events_record(
    *,
    type: str,
    token: str,
    parent_token: str | None = None,
    actor_id: str = "",
    target_user_id: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> Event:
    """Record one event in the caller's transaction (see ``events_record_bulk``)."""
    new = NewEvent(
        type=type,
        token=token,
        parent_token=parent_token,
        actor_id=actor_id,
        target_user_id=target_user_id,
        payload=payload or {},
    )
    return events_record_bulk(events=[new])[0]


# The events of the operation in progress (``events_batch``), or None outside one.
_batched: ContextVar[list[NewEvent] | None] = ContextVar("live_batched_events", default=None)


def events_add(*, events: Sequence[NewEvent]) -> None:
    """Record ``events`` now (``events_record_bulk``) or, inside ``events_batch``, with the other
    events of the operation when the batch ends. Building blocks that a service may call several
    times (posting system messages, adding or removing attendees) use this, so that an operation
    still writes its events with one INSERT."""
    pending = _batched.get()
    if pending is None:
        events_insert(events=events, now=timezone.now())
    else:
        pending.extend(events)


@contextmanager
def events_batch() -> Iterator[list[NewEvent]]:
    """Collect the events of one operation (``events_add``, or appending to the yielded list) and
    record them with one ``events_record_bulk`` when the block ends without an exception: recorded
    last, after every lock of the operation. Use inside the operation's transaction; as a
    decorator below ``@transaction.atomic``. A nested batch joins the outer one. An exception
    records nothing (the transaction rolls back anyway); a caller that catches an exception
    inside the block and rolls back a savepoint must not have added events in it."""
    outer = _batched.get()
    if outer is not None:
        yield outer
        return
    pending: list[NewEvent] = []
    reset = _batched.set(pending)
    try:
        yield pending
    finally:
        _batched.reset(reset)
    events_insert(events=_chat_wakes_merged(pending), now=timezone.now())


def _chat_wakes_merged(events: Sequence[NewEvent]) -> list[NewEvent]:
    """One ``chat.message`` per conversation and actor in a batch: an operation that posts
    several system messages into a room (a configure's ``conversation_created`` then
    ``user_added``) wakes its waiters once, with the newest message id."""
    newest: dict[tuple[str, str], NewEvent] = {}
    for event in events:
        if event.type == CHAT_MESSAGE:
            key = (event.token, event.actor_id)
            kept = newest.get(key)
            if kept is None or event.payload.get("messageId", 0) > kept.payload.get("messageId", 0):
                newest[key] = event
    return [event for event in events if event.type != CHAT_MESSAGE or newest[(event.token, event.actor_id)] is event]


@transaction.atomic
def events_prune(*, older_than_hours: int) -> int:
    """Delete the events older than the retention window and remember the highest id deleted
    (resumes from below it get ``event: reset``); returns how many were deleted."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    through = Event.objects.filter(created_at__lt=cutoff).aggregate(through=Max("id"))["through"]
    if through is None:
        return 0
    deleted, _ = Event.objects.filter(id__lte=through).delete()
    Retention.objects.get_or_create(id=1)
    Retention.objects.filter(id=1).update(pruned_through=Greatest(F("pruned_through"), through))
    return deleted
