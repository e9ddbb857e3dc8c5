"""The switch's narrow locks (PostgreSQL, real threads): switches of different students run side
by side, and a moderator's stop waiting for them is served before switches that arrive after it.

A switch of one student is held open at a hook (``rounds.spans_open``, after its locks and
writes) while the others run; whether a transaction waits is read from ``pg_stat_activity``, so
nothing here depends on timings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from accounts.models import User
from breakout.services import lifecycle, rounds
from conversations.models import Attendee, Conversation
from project.errors import BadRequest
from tests.breakout.conftest import add_students, breakout_rooms
from tests.conftest import requires_postgres
from tests.reliability.invariants import tree_violations

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Job:
    """``action`` in a thread of its own (own connection); ``done`` is set when it returned."""

    def __init__(self, action: Callable[[], Any]) -> None:
        self.done = threading.Event()
        self.result: Any = None

        def run() -> None:
            try:
                self.result = action()
            except Exception as exc:  # asserted on by the test
                self.result = exc
            finally:
                connections.close_all()
                self.done.set()

        self.thread = threading.Thread(target=run)
        self.thread.start()


def lock_waiters() -> int:
    """Backends of this database waiting for a lock (row or advisory)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> dict[str, threading.Event]:
    """Pauses the switch of the user named in ``held["who"]`` inside its transaction."""
    state: dict[str, Any] = {"who": None, "paused": threading.Event(), "release": threading.Event()}
    original = rounds.spans_open

    def spans_open(**kwargs: Any) -> None:
        entries = list(kwargs.pop("entries"))
        if entries and entries[0][0].actor_id == state["who"]:
            state["paused"].set()
            state["release"].wait(60)
        original(entries=entries, **kwargs)

    monkeypatch.setattr(rounds, "spans_open", spans_open)
    return state


def started_class(room: Conversation, owner: User) -> tuple[list[User], list[Conversation]]:
    pupils = add_students(room, 3)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=3, amount=4, attendee_map={})
    lifecycle.breakout_start(actor=owner, parent=room)
    tree = breakout_rooms(room)
    for pupil, index in zip(pupils, (0, 2, 0), strict=True):
        lifecycle.breakout_switch(actor=pupil, parent=room, target=tree[index].token)
    return pupils, tree


def room_of(user: User, parent: Conversation) -> int:
    return Attendee.objects.get(breakout_parent=parent, user=user).room_id


def test_switches_of_different_students_do_not_wait_for_each_other(
    room: Conversation, owner: User, held: dict[str, Any]
) -> None:
    (first, second, _), tree = started_class(room, owner)
    held["who"] = first.username
    holding = Job(lambda: lifecycle.breakout_switch(actor=first, parent=room, target=tree[1].token))
    wait_for(held["paused"].is_set, "the first switch to hold its locks")

    # The second student switches (between two other rooms) while the first one's transaction
    # is open with its locks: it finishes without waiting for it.
    other = Job(lambda: lifecycle.breakout_switch(actor=second, parent=room, target=tree[3].token))
    wait_for(lambda: other.done.is_set() or lock_waiters() > 0, "the second switch to finish or wait")
    finished_while_held = other.done.wait(30)
    held["release"].set()
    holding.thread.join(60)
    other.thread.join(60)

    assert finished_while_held, "the second switch waited for the first one's transaction"
    assert not isinstance(other.result, Exception), other.result
    assert not isinstance(holding.result, Exception), holding.result
    assert room_of(first, room) == tree[1].pk
    assert room_of(second, room) == tree[3].pk
    assert tree_violations([room.pk]) == []


def test_a_stop_waiting_for_a_switch_goes_before_switches_that_arrive_after_it(
    room: Conversation, owner: User, held: dict[str, Any]
) -> None:
    (first, _, third), tree = started_class(room, owner)
    held["who"] = first.username
    holding = Job(lambda: lifecycle.breakout_switch(actor=first, parent=room, target=tree[1].token))
    wait_for(held["paused"].is_set, "the switch to hold its locks")

    stop = Job(lambda: lifecycle.breakout_stop(actor=owner, parent=room))
    wait_for(lambda: lock_waiters() >= 1, "the stop to wait for the switch")
    # A switch arriving now would be compatible with the held switch, but it queues behind the
    # waiting stop instead of overtaking it (and then finds the rooms stopped).
    late = Job(lambda: lifecycle.breakout_switch(actor=third, parent=room, target=tree[3].token))
    wait_for(lambda: lock_waiters() >= 2, "the late switch to queue behind the stop")
    held["release"].set()
    for job in (holding, stop, late):
        job.thread.join(60)

    assert not isinstance(holding.result, Exception), holding.result
    assert not isinstance(stop.result, Exception), stop.result
    assert isinstance(late.result, BadRequest) and late.result.key == "status", late.result
    room.refresh_from_db()
    assert room.breakout_room_status == Conversation.BreakoutStatus.STOPPED
    assert room_of(first, room) == tree[1].pk
    assert room_of(third, room) == tree[0].pk
    assert tree_violations([room.pk]) == []
