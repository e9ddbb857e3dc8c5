"""Races between real transactions in real threads (PostgreSQL row locks).

After every run the invariants of the tree hold: a non-moderator is in at most one breakout room
of a parent, every moderator of the parent is a moderator in each breakout room, a parent has
one set of rooms, and a breakout room's lobby is on exactly when its parent is stopped.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation
from conversations.services.moderators import attendee_promote
from project.errors import BadRequest
from tests.breakout.conftest import add_students, breakout_rooms, parent_attendee
from tests.concurrency import run_together
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def assert_tree_invariants(parent: Conversation) -> None:
    parent.refresh_from_db()
    rooms = breakout_rooms(parent)
    expected_lobby = 1 if parent.breakout_room_status == Conversation.BreakoutStatus.STOPPED else 0
    assert [r.lobby_state for r in rooms] == [expected_lobby] * len(rooms)
    student_rows = Attendee.objects.filter(room__parent=parent, participant_type__in=Attendee.STUDENT_TYPES)
    assert all(count == 1 for count in Counter(student_rows.values_list("actor_id", flat=True)).values())
    moderators = set(
        Attendee.objects.filter(
            room=parent, actor_type="users", participant_type__in=Attendee.MODERATOR_TYPES
        ).values_list("actor_id", flat=True)
    )
    for breakout in rooms:
        in_room = dict(Attendee.objects.filter(room=breakout).values_list("actor_id", "participant_type"))
        for actor_id in moderators:
            assert in_room.get(actor_id) in Attendee.MODERATOR_TYPES, (actor_id, breakout.name)


def expected_errors(results: list[Any]) -> list[str]:
    """The error keys of the jobs that failed; anything but a BadRequest fails the test."""
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, BadRequest)]
    assert not unexpected, unexpected
    return [r.key for r in results if isinstance(r, BadRequest)]


def test_concurrent_switches_leave_every_student_in_exactly_one_room(room: Conversation, owner: User) -> None:
    pupils = add_students(room, 5)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=3, amount=4, attendee_map={})
    lifecycle.breakout_start(actor=owner, parent=room)
    tokens = [r.token for r in breakout_rooms(room)]

    def switching(user: User, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(6):
            lifecycle.breakout_switch(actor=user, parent=room, target=rng.choice(tokens))

    # Three threads per student, each switching six times.
    results = run_together([lambda u=u, s=s: switching(u, s) for s in range(3) for u in pupils])

    assert expected_errors(results) == []
    rows = Attendee.objects.filter(room__parent=room, participant_type=3)
    assert sorted(rows.values_list("actor_id", flat=True)) == sorted(p.username for p in pupils)
    assert_tree_invariants(room)


def test_configure_racing_configure_makes_exactly_one_set_of_rooms(room: Conversation, owner: User) -> None:
    add_students(room, 10)
    amounts = [2, 3, 4, 5, 6, 7]

    results = run_together(
        [
            lambda n=n: lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=n, attendee_map={})
            for n in amounts
        ]
    )

    assert sorted(expected_errors(results)) == ["room"] * (len(amounts) - 1)
    winner = next(n for n, result in zip(amounts, results, strict=True) if isinstance(result, Conversation))
    rooms = breakout_rooms(room)
    assert [r.name for r in rooms] == [f"Room {i}" for i in range(1, winner + 1)]
    assert Attendee.objects.filter(room__parent=room, participant_type=3).count() == 11
    assert_tree_invariants(room)


def test_start_racing_stop_keeps_lobbies_in_step_with_the_parent(
    room: Conversation, owner: User, moderator: User
) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=5, attendee_map={})

    def toggling(actor: User, first_start: bool) -> None:
        for step in range(6):
            if (step % 2 == 0) == first_start:
                lifecycle.breakout_start(actor=actor, parent=room)
            else:
                lifecycle.breakout_stop(actor=actor, parent=room)

    results = run_together([lambda a=a, f=f: toggling(a, f) for a in (owner, moderator) for f in (True, False)] * 2)

    assert expected_errors(results) == []
    assert_tree_invariants(room)
    # Each start posts exactly where a lobby opened, each stop where it closed: the messages of a
    # room alternate, as they would if the calls had run one after another.
    for breakout in breakout_rooms(room):
        keys = list(
            breakout.messages.filter(system_message__startswith="breakout_rooms_")
            .order_by("id")
            .values_list("system_message", flat=True)
        )
        assert all(a != b for a, b in zip(keys, keys[1:], strict=False)), keys


def test_promotion_racing_reorganize_keeps_moderators_in_every_room(
    room: Conversation, owner: User, student: User
) -> None:
    pupils = add_students(room, 6)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=3, attendee_map={})
    promoted = [student, *pupils[:2]]
    movers = {parent_attendee(room, u).pk: i % 3 for i, u in enumerate([student, *pupils])}

    jobs: list[Callable[[], Any]] = [
        # Each job loads the parent afresh, as the view does for every request.
        lambda u=u: attendee_promote(
            actor=owner, room=Conversation.objects.get(pk=room.pk), attendee_id=parent_attendee(room, u).pk
        )
        for u in promoted
    ]
    jobs += [
        lambda shift=shift: lifecycle.breakout_reorganize(
            actor=owner, parent=room, attendee_map={k: (v + shift) % 3 for k, v in movers.items()}
        )
        for shift in range(4)
    ]
    results = run_together(jobs)

    # A reorganize that runs after a promotion is refused as a whole; nothing else may fail.
    assert set(expected_errors(results)) <= {"moderator"}
    assert all(isinstance(r, Attendee) for r in results[: len(promoted)])
    for user in promoted:
        rows = Attendee.objects.filter(room__parent=room, user=user)
        assert sorted(rows.values_list("participant_type", flat=True)) == [2, 2, 2]
    assert_tree_invariants(room)
