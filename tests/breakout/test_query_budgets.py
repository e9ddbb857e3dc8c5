"""Every lifecycle operation issues the same number of queries for a small and a large class.

Sizes: 5 students in 2 rooms and 300 students in 20 rooms. The service is called inside the
test's transaction, so ``transaction.atomic`` shows up as a SAVEPOINT / RELEASE pair. Each
operation records all its events (chat.message of its system messages, participants.changed,
the breakout.* events, one switchto per moved student) with one INSERT before its RELEASE
(``EVENT_QUERIES``: on PostgreSQL the ordering lock too).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation
from tests.breakout.conftest import add_students, breakout_rooms
from tests.conversations.leftovers import leftovers_add
from tests.helpers import EVENT_QUERIES

SIZES = pytest.mark.parametrize(("students", "rooms"), [(5, 2), (300, 20)], ids=["small", "large"])


def student_ids(parent: Conversation) -> list[int]:
    return list(Attendee.objects.filter(room=parent, participant_type=3).values_list("pk", flat=True))


@SIZES
def test_configure_query_count_does_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    attendee_map = {pk: i % rooms for i, pk in enumerate(student_ids(room))}

    # SAVEPOINT; lock the parent (SELECT ... FOR UPDATE); SELECT parent attendees (the caller's
    # role among them); app config; orphan clean-up: DELETE attendees, DELETE the rooms'
    # reactions, reminders, poll votes and polls, DELETE pictures, DELETE chat, DELETE rooms;
    # SAVEPOINT, INSERT rooms, RELEASE; INSERT conversation_created messages, UPDATE rooms' last
    # activity; INSERT attendees, INSERT user_added messages, UPDATE last activity; UPDATE parent
    # mode; history: INSERT the round, INSERT the students' spans; SELECT the parent's bots
    # (none here: nothing to inherit); the events (EVENT_QUERIES); RELEASE.
    with django_assert_num_queries(25 + EVENT_QUERIES):
        lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=rooms, attendee_map=attendee_map)

    assert Attendee.objects.filter(breakout_parent=room, participant_type=3).count() == students + 1


@SIZES
def test_remove_query_count_does_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=rooms, attendee_map={})
    for child in breakout_rooms(room)[:2]:  # reactions, reminders, poll votes growing with the size
        leftovers_add(child, messages=rooms // 2, reactions=rooms // 2, votes=rooms // 2)

    # SAVEPOINT; lock; the caller's row (role under the lock); DELETE attendees, DELETE the
    # rooms' reactions, reminders, poll votes and polls, DELETE pictures, DELETE chat, DELETE
    # rooms; UPDATE (end) open assistance requests; history: UPDATE (close) open spans, UPDATE
    # (close) the round; UPDATE parent; the events (EVENT_QUERIES); RELEASE.
    with django_assert_num_queries(16 + EVENT_QUERIES):
        lifecycle.breakout_remove(actor=owner, parent=room)

    assert breakout_rooms(room) == []


@SIZES
def test_start_and_stop_query_counts_do_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=rooms, attendee_map={})

    # SAVEPOINT; lock; the caller's row (role under the lock); SELECT rooms whose lobby changes;
    # UPDATE rooms; INSERT system messages, UPDATE last activity; UPDATE parent status; history:
    # UPDATE the round's start (stop: the same, parent and round's stop first, and an UPDATE
    # ending open assistance requests); SELECT the students in breakout rooms (their switchto
    # events); the events (EVENT_QUERIES); RELEASE.
    with django_assert_num_queries(11 + EVENT_QUERIES):
        lifecycle.breakout_start(actor=owner, parent=room)
    with django_assert_num_queries(12 + EVENT_QUERIES):
        lifecycle.breakout_stop(actor=owner, parent=room)

    assert {r.lobby_state for r in breakout_rooms(room)} == {1}


@SIZES
def test_broadcast_query_count_does_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=rooms, attendee_map={})

    # SAVEPOINT; lock; the caller's row (role under the lock); SELECT room ids; INSERT messages;
    # UPDATE last activity; RELEASE.
    with django_assert_num_queries(7 + EVENT_QUERIES):
        lifecycle.breakout_broadcast(actor=owner, parent=room, message="Hello")


@SIZES
def test_reorganize_query_count_does_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    everyone_first = {pk: 0 for pk in student_ids(room)}
    everyone_last = {pk: rooms - 1 for pk in student_ids(room)}
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=rooms, attendee_map=everyone_first)

    # SAVEPOINT; lock; SELECT the caller's and the mapped parent attendees; app config; SELECT
    # rooms; SELECT their breakout rows; DELETE moved rows, INSERT user_removed, UPDATE last activity; INSERT new
    # rows, INSERT user_added, UPDATE last activity; history: UPDATE (close) the moved students'
    # spans, INSERT their new spans (the round by a subquery); RELEASE.
    with django_assert_num_queries(15 + EVENT_QUERIES):
        lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map=everyone_last)

    assert Attendee.objects.filter(room=breakout_rooms(room)[-1], participant_type=3).count() == students + 1


@SIZES
def test_switch_query_count_does_not_grow(
    room: Conversation, owner: User, student: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    pupils = add_students(room, students)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=3, amount=rooms, attendee_map={})
    lifecycle.breakout_start(actor=owner, parent=room)
    tree = breakout_rooms(room)
    for index, pupil in enumerate(pupils):
        lifecycle.breakout_switch(actor=pupil, parent=room, target=tree[index % rooms].token)
    lifecycle.breakout_switch(actor=student, parent=room, target=tree[0].token)

    # SAVEPOINT; lock; SELECT caller's parent row (role under the lock); SELECT rooms; SELECT caller's breakout rows;
    # DELETE the old row; INSERT the new row; INSERT user_removed and user_added together, UPDATE
    # both rooms' last activity; history: UPDATE (close) the old span, INSERT the new one; RELEASE.
    with django_assert_num_queries(12 + EVENT_QUERIES):
        lifecycle.breakout_switch(actor=student, parent=room, target=tree[-1].token)

    assert list(Attendee.objects.filter(breakout_parent=room, user=student).values_list("room_id", flat=True)) == [
        tree[-1].pk
    ]
