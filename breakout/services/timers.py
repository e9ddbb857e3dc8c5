"""Round timers and grace countdowns (extension ``breakout-rooms-timer``).

A timer is an end time on a started parent: ``Conversation.breakout_ends_at``, written on the
parent and copied to its breakout rooms in one UPDATE so that every room object shows it
(``breakoutRoomEndsAt``) without another query. ``BreakoutTimer`` remembers who set it (the stop
acts for them) and the warnings already sent. Every stop clears the end in its own UPDATEs.

The end is applied three ways, all through ``conversation_tree_lock``, which runs
``timer_end_reached`` (registered as the tree rule ``tree_end_reached``) when the locked parent's
end has passed:

- the worker: setting an end enqueues a ``breakout_timer_job`` at the end and at each warning
  lead time (``BREAKOUT_TIMER_WARNINGS``), in the same transaction; the job locks the tree;
- every writer of the tree, which locks it first;
- every request that reads the tree (``RoomView.get_attendee`` and the room list), which locks
  it when the end it read has passed.

So a request after the end never sees the rooms open, and the stop is the very
``breakout_stop`` of a moderator (system messages, lobbies, events) exactly once: the second
applier finds the end cleared under the lock. A manual stop first clears it too.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from breakout.models import BreakoutTimer
from breakout.services import lifecycle, rounds
from breakout.services.guards import (
    GRACE_SECONDS_MAXIMUM,
    TIMER_SECONDS_MAXIMUM,
    TIMER_SECONDS_MINIMUM,
    caller_require,
    parent_configured_require,
    parent_started_require,
)
from conversations.models import Attendee, Conversation
from conversations.services.primitives import (
    RoomTokens,
    SystemMessage,
    conversation_tree_lock,
    system_messages_post,
)
from live.services import NewEvent, events_add, events_batch, events_record_bulk
from project.errors import BadRequest, NotFound

TIMER_EVENT = "breakout.timer"


def duration_require(duration: int) -> None:
    """A timer runs 60 seconds to a day: 400 ``duration``."""
    if not TIMER_SECONDS_MINIMUM <= duration <= TIMER_SECONDS_MAXIMUM:
        raise BadRequest("duration")


def grace_require(grace: int) -> None:
    """A grace countdown is 0 (stop at once) to 300 seconds: 400 ``grace``."""
    if not 0 <= grace <= GRACE_SECONDS_MAXIMUM:
        raise BadRequest("grace")


def seconds_left(ends_at: datetime | None, now: datetime) -> int:
    return max(0, math.ceil((ends_at - now).total_seconds())) if ends_at is not None else 0


def _locked(*, actor: User, parent: Conversation, as_operator: bool) -> Conversation:
    """The tree lock (which applies an end that has passed) and the caller's role under it."""
    try:
        parent = conversation_tree_lock(parent_id=parent.pk)
    except Conversation.DoesNotExist:
        raise NotFound() from None
    if not as_operator:
        row = Attendee.objects.filter(room=parent, actor_type=Attendee.ACTOR_USERS, user=actor).first()
        caller_require(row, moderator=True)
    return parent


def _jobs_schedule(*, parent_id: int, ends_at: datetime, now: datetime) -> None:
    """A worker job at each warning time still ahead and at the end. Jobs of an end that was
    changed since find nothing to do (they re-read the tree under its lock). One INSERT each;
    their number is the configured lead times', not the tree's."""
    from breakout.tasks import breakout_timer_job

    times = [ends_at - timedelta(seconds=lead) for lead in settings.BREAKOUT_TIMER_WARNINGS]
    for when in [*(t for t in times if t > now), ends_at]:
        breakout_timer_job.using(run_after=when).enqueue(parent_id=parent_id)


def _timer_event(*, actor: User | None, parent: Conversation, ends_at: datetime | None, left: int) -> NewEvent:
    return NewEvent(
        type=TIMER_EVENT,
        token=parent.token,
        actor_id=actor.username if actor is not None else "",
        payload={"endsAt": int(ends_at.timestamp()) if ends_at is not None else 0, "secondsLeft": left},
    )


def _rooms_of(parent: Conversation) -> RoomTokens:
    """The breakout rooms of ``parent`` (id order) with their tokens: one query, so their system
    messages' ``chat.message`` events need no other."""
    rooms = Conversation.objects.filter(parent_id=parent.pk).order_by("id").values_list("pk", "token")
    return {pk: (token, parent.token) for pk, token in rooms}


def _end_write(
    *, actor: User, parent: Conversation, ends_at: datetime | None, now: datetime, message_key: str, grace: bool = False
) -> None:
    """Set (or with ``None`` clear) the end of the locked, started ``parent``: the parent and its
    rooms in one UPDATE, who set it, the round's record, a system message in each room, the
    worker's jobs and a ``breakout.timer`` event to the whole tree. The callers batch the events
    (``events_batch``): the messages' ``chat.message`` and the timer event in one INSERT, last."""
    Conversation.objects.filter(Q(pk=parent.pk) | Q(parent_id=parent.pk)).update(breakout_ends_at=ends_at)
    parent.breakout_ends_at = ends_at
    left = seconds_left(ends_at, now)
    if ends_at is not None:
        set_by = actor if actor.pk else None
        if not BreakoutTimer.objects.filter(parent_id=parent.pk).update(set_by=set_by, grace=grace, announced=left):
            BreakoutTimer.objects.create(parent_id=parent.pk, set_by=set_by, grace=grace, announced=left)
        rounds.round_timer_set(parent_id=parent.pk, ends_at=ends_at)
    tokens = _rooms_of(parent)
    system_messages_post(
        actor=actor,
        messages=[SystemMessage(room_id=pk, key=message_key, text={"seconds": left}) for pk in tokens],
        now=now,
        tokens=tokens,
    )
    if ends_at is not None:
        _jobs_schedule(parent_id=parent.pk, ends_at=ends_at, now=now)
    events_add(events=[_timer_event(actor=actor, parent=parent, ends_at=ends_at, left=left)])


@transaction.atomic
@events_batch()
def breakout_start_timed(
    *, actor: User, parent: Conversation, duration: int, as_operator: bool = False
) -> Conversation:
    """Start (``lifecycle.breakout_start``) with a timer of ``duration`` seconds, in one
    transaction: 400 ``duration`` before anything changes."""
    duration_require(duration)
    parent = lifecycle.breakout_start(actor=actor, parent=parent, as_operator=as_operator)
    now = timezone.now()
    _end_write(
        actor=actor,
        parent=parent,
        ends_at=now + timedelta(seconds=duration),
        now=now,
        message_key="breakout_timer_set",
    )
    return parent


@transaction.atomic
@events_batch()
def breakout_timer_set(*, actor: User, parent: Conversation, duration: int, as_operator: bool = False) -> Conversation:
    """Set or replace the end of started breakout rooms: ``duration`` seconds from now (extend,
    shorten; a running grace countdown becomes a timer). 400 ``status`` when not started, 400
    ``duration`` out of 60..86400."""
    parent = _locked(actor=actor, parent=parent, as_operator=as_operator)
    parent_started_require(parent)
    duration_require(duration)
    now = timezone.now()
    ends_at = now + timedelta(seconds=duration)
    _end_write(actor=actor, parent=parent, ends_at=ends_at, now=now, message_key="breakout_timer_set")
    return parent


@transaction.atomic
@events_batch()
def breakout_timer_clear(*, actor: User, parent: Conversation, as_operator: bool = False) -> Conversation:
    """Remove the end of started breakout rooms (a timer or a grace countdown): they run until
    stopped by hand. 400 ``status`` when not started; no timer: nothing changes."""
    parent = _locked(actor=actor, parent=parent, as_operator=as_operator)
    parent_started_require(parent)
    if parent.breakout_ends_at is not None:
        _end_write(actor=actor, parent=parent, ends_at=None, now=timezone.now(), message_key="breakout_timer_cleared")
    return parent


@transaction.atomic
@events_batch()
def breakout_stop_graced(*, actor: User, parent: Conversation, grace: int, as_operator: bool = False) -> Conversation:
    """Stop with a countdown: started rooms close ``grace`` seconds from now (or at an earlier
    end already set) instead of at once; everyone gets a ``breakout.timer`` event. ``grace`` 0,
    or rooms that are not running, stop as ``lifecycle.breakout_stop`` does. 400 ``grace`` out
    of 0..300, ``mode`` when not configured."""
    grace_require(grace)
    parent = _locked(actor=actor, parent=parent, as_operator=as_operator)
    parent_configured_require(parent)
    if grace == 0 or parent.breakout_room_status != Conversation.BreakoutStatus.STARTED:
        return lifecycle.breakout_stop(actor=actor, parent=parent, as_operator=as_operator)
    now = timezone.now()
    ends_at = now + timedelta(seconds=grace)
    if parent.breakout_ends_at is not None and parent.breakout_ends_at <= ends_at:
        return parent  # closing sooner already
    _end_write(actor=actor, parent=parent, ends_at=ends_at, now=now, message_key="breakout_grace_started", grace=True)
    return parent


def _stand_in(parent: Conversation) -> User:
    """Whom the stop acts for when the moderator who set the timer is gone: the parent's owner,
    else a moderator, else an unsaved "system" user (system messages need an actor name)."""
    row = (
        Attendee.objects.filter(
            room=parent, actor_type=Attendee.ACTOR_USERS, participant_type__in=Attendee.MODERATOR_TYPES
        )
        .select_related("user")
        .order_by("participant_type", "id")
        .first()
    )
    return row.user if row is not None and row.user is not None else User(username="system", first_name="System")


def timer_end_reached(*, root: Conversation) -> Conversation:
    """The end of ``root`` (locked by the caller) has passed: post ``breakout_timer_reached`` in
    each room and stop as the moderator who set it (``lifecycle.breakout_stop``). An end left on
    a parent that is not running (cannot happen through the services) is only cleared."""
    if root.parent_id is not None or root.breakout_room_status != Conversation.BreakoutStatus.STARTED:
        Conversation.objects.filter(Q(pk=root.pk) | Q(parent_id=root.pk)).update(breakout_ends_at=None)
        root.breakout_ends_at = None
        return root
    timer = BreakoutTimer.objects.select_related("set_by").filter(parent_id=root.pk).first()
    actor = timer.set_by if timer is not None and timer.set_by is not None else _stand_in(root)
    tokens = _rooms_of(root)
    with events_batch():  # the messages' chat.message events join the stop's INSERT
        system_messages_post(
            actor=actor,
            messages=[SystemMessage(room_id=pk, key="breakout_timer_reached") for pk in tokens],
            tokens=tokens,
        )
        return lifecycle.breakout_stop(actor=actor, parent=root, as_operator=True)


@transaction.atomic
def breakout_timer_tick(*, parent_id: int) -> str:
    """What the worker's job does at a warning time or at the end of a parent's timer: lock the
    tree (which stops it when the end has passed), else send the warning that is due. Safe to
    run any number of times and at any moment; returns what it did."""
    try:
        parent = conversation_tree_lock(parent_id=parent_id)
    except Conversation.DoesNotExist:
        return "gone"
    if parent.breakout_ends_at is None:
        return "no timer"
    now = timezone.now()
    left = seconds_left(parent.breakout_ends_at, now)
    timer = BreakoutTimer.objects.select_related("set_by").filter(parent_id=parent_id).first()
    announced = timer.announced if timer is not None else TIMER_SECONDS_MAXIMUM + 1
    if not any(left <= lead < announced for lead in settings.BREAKOUT_TIMER_WARNINGS):
        return "nothing due"
    BreakoutTimer.objects.filter(parent_id=parent_id).update(announced=left)
    actor = timer.set_by if timer is not None else None
    events_record_bulk(events=[_timer_event(actor=actor, parent=parent, ends_at=parent.breakout_ends_at, left=left)])
    return "warned"
