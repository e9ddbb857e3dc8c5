"""The assignment algorithms (breakout/assignment.py): balance, constraints, seeds, infeasible
sets and fresh mixes, with property-based tests for the invariants."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from breakout.assignment import (
    Assignment,
    Constraints,
    InfeasibleConstraints,
    assignment_plan,
    repeated_pairs,
)

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def sizes(assignment: Assignment, amount: int) -> list[int]:
    counts = Counter(assignment.room_of.values())
    return [counts.get(room, 0) for room in range(amount)]


def assert_everyone_placed_once(assignment: Assignment, people: list[int], amount: int) -> None:
    assert sorted(assignment.room_of) == sorted(people)
    assert all(0 <= room < amount for room in assignment.room_of.values())


@st.composite
def classes(draw: st.DrawFn, *, max_people: int = 60) -> tuple[list[int], int]:
    people = draw(st.lists(st.integers(1, 10_000), min_size=0, max_size=max_people, unique=True))
    amount = draw(st.integers(1, 20))
    return people, amount


@st.composite
def constrained_classes(draw: st.DrawFn) -> tuple[list[int], int, Constraints]:
    people, amount = draw(classes(max_people=40))
    groups = (
        st.lists(st.sampled_from(people), min_size=2, max_size=4, unique=True) if len(people) >= 2 else st.nothing()
    )
    keep_apart = draw(st.lists(groups, max_size=3)) if len(people) >= 2 else []
    spread = draw(st.lists(groups, max_size=2)) if len(people) >= 2 else []
    return people, amount, Constraints(keep_apart=keep_apart, spread_groups=spread)


@PROPERTY_SETTINGS
@given(classes(), st.integers())
def test_automatic_places_everyone_once_in_balanced_rooms(case: tuple[list[int], int], seed: int) -> None:
    people, amount = case
    assignment = assignment_plan(people=people, amount=amount, seed=seed)
    assert_everyone_placed_once(assignment, people, amount)
    assert max(sizes(assignment, amount)) - min(sizes(assignment, amount)) <= 1


@PROPERTY_SETTINGS
@given(constrained_classes(), st.integers(0, 1000))
def test_constraints_are_kept_or_refused_with_the_conflicting_ids(
    case: tuple[list[int], int, Constraints], seed: int
) -> None:
    people, amount, constraints = case
    try:
        assignment = assignment_plan(people=people, amount=amount, seed=seed, constraints=constraints)
    except InfeasibleConstraints as refusal:
        assert refusal.ids
        assert set(refusal.ids) <= {person for group in constraints.keep_apart for person in group}
        # Refused only when some keep-apart group has more members than there are rooms, or the
        # greedy search could not separate them: in the first case it is truly impossible.
        return
    assert_everyone_placed_once(assignment, people, amount)
    assert max(sizes(assignment, amount)) - min(sizes(assignment, amount)) <= 1
    for group in constraints.keep_apart:
        rooms = [assignment.room_of[person] for person in group]
        assert len(rooms) == len(set(rooms)), group


@PROPERTY_SETTINGS
@given(classes(max_people=40), st.integers(0, 1000))
def test_keep_apart_groups_no_larger_than_the_room_count_are_always_kept(
    case: tuple[list[int], int], seed: int
) -> None:
    people, amount = case
    rng = random.Random(seed)
    groups = [rng.sample(people, min(len(people), amount, 3)) for _ in range(3)] if people else []
    groups = [group for group in groups if len(group) >= 2]
    # Disjoint groups no larger than the room count can always be separated.
    used: set[int] = set()
    disjoint = []
    for group in groups:
        if not used & set(group):
            disjoint.append(group)
            used |= set(group)
    assignment = assignment_plan(people=people, amount=amount, seed=seed, constraints=Constraints(keep_apart=disjoint))
    for group in disjoint:
        assert len({assignment.room_of[person] for person in group}) == len(group)


@PROPERTY_SETTINGS
@given(classes(max_people=40), st.integers(0, 1000))
def test_keep_together_puts_each_group_in_one_room(case: tuple[list[int], int], seed: int) -> None:
    people, amount = case
    rng = random.Random(seed)
    shuffled = rng.sample(people, len(people))
    together = [shuffled[index : index + 3] for index in range(0, min(len(shuffled), 9), 3)]
    together = [group for group in together if len(group) >= 2]
    assignment = assignment_plan(
        people=people, amount=amount, seed=seed, constraints=Constraints(keep_together=together)
    )
    assert_everyone_placed_once(assignment, people, amount)
    for group in together:
        assert len({assignment.room_of[person] for person in group}) == 1


@PROPERTY_SETTINGS
@given(classes(max_people=60), st.integers(0, 1000))
def test_spread_groups_are_spread_as_evenly_as_possible(case: tuple[list[int], int], seed: int) -> None:
    people, amount = case
    team = people[::2]
    assignment = assignment_plan(people=people, amount=amount, seed=seed, constraints=Constraints(spread_groups=[team]))
    per_room = Counter(assignment.room_of[person] for person in team)
    counts = [per_room.get(room, 0) for room in range(amount)]
    if team:
        assert max(counts) - min(counts) <= 1
    assert max(sizes(assignment, amount)) - min(sizes(assignment, amount)) <= 1


@pytest.mark.parametrize(
    "constraints", [Constraints(), Constraints(keep_apart=[[1, 2], [3, 4, 5]], spread_groups=[[6, 7, 8, 9]])]
)
def test_the_same_seed_gives_the_same_assignment(constraints: Constraints) -> None:
    people = list(range(1, 41))
    first = assignment_plan(people=people, amount=4, seed=7, constraints=constraints)
    again = assignment_plan(people=list(reversed(people)), amount=4, seed=7, constraints=constraints)
    other = assignment_plan(people=people, amount=4, seed=8, constraints=constraints)
    assert first == again
    assert first != other


def test_automatic_mode_without_constraints_fills_the_first_rooms_first() -> None:
    # Contract 1.1: the k-th shuffled student goes to room k mod amount.
    assignment = assignment_plan(people=list(range(1, 11)), amount=4, seed=3)
    assert sizes(assignment, 4) == [3, 3, 2, 2]


def test_a_keep_apart_group_larger_than_the_room_count_is_refused_with_its_ids() -> None:
    with pytest.raises(InfeasibleConstraints) as refusal:
        assignment_plan(people=[1, 2, 3, 4], amount=2, constraints=Constraints(keep_apart=[[1, 2, 3]]))
    assert refusal.value.ids == [1, 2, 3]


def test_keep_apart_within_a_keep_together_group_is_refused_with_the_ids_that_clash() -> None:
    constraints = Constraints(keep_apart=[[1, 2]], keep_together=[[1, 3], [3, 2]])
    with pytest.raises(InfeasibleConstraints) as refusal:
        assignment_plan(people=[1, 2, 3, 4], amount=2, constraints=constraints)
    assert refusal.value.ids == [1, 2]


def test_unknown_ids_in_constraints_are_refused_with_those_ids() -> None:
    with pytest.raises(InfeasibleConstraints) as refusal:
        assignment_plan(people=[1, 2, 3], amount=2, constraints=Constraints(keep_together=[[1, 99]]))
    assert refusal.value.ids == [99]


def test_a_keep_together_group_larger_than_a_room_unbalances_only_as_much_as_needed() -> None:
    assignment = assignment_plan(
        people=list(range(1, 13)), amount=3, constraints=Constraints(keep_together=[[1, 2, 3, 4, 5, 6]])
    )
    assert sorted(sizes(assignment, 3)) == [3, 3, 6]


def test_fresh_mixes_repeat_fewer_pairs_than_random_shuffles_over_rounds() -> None:
    people = list(range(32))
    fresh_rooms: list[list[int]] = []
    random_rooms: list[list[int]] = []
    fresh_repeats = random_repeats = 0
    for round_number in range(6):
        fresh = assignment_plan(people=people, amount=8, seed=round_number, earlier_rooms=fresh_rooms)
        fresh_repeats += fresh.repeated_pairs
        fresh_rooms.extend(fresh.rooms(8))
        shuffled = assignment_plan(people=people, amount=8, seed=round_number)
        random_repeats += repeated_pairs(shuffled.room_of, random_rooms)
        random_rooms.extend(shuffled.rooms(8))
        assert sizes(fresh, 8) == [4] * 8
    assert fresh_repeats < random_repeats / 2


def test_a_second_round_of_fresh_mixes_meets_nobody_twice_when_possible() -> None:
    # 16 people in 4 rooms of 4: after one round, a second round with no repeat exists (transpose).
    people = list(range(16))
    first = Assignment({person: person // 4 for person in people})
    second = assignment_plan(people=people, amount=4, seed=1, earlier_rooms=first.rooms(4))
    assert second.repeated_pairs == 0


def test_repeated_pairs_counts_each_pair_once_per_earlier_room_it_shared() -> None:
    earlier_rooms = [[1, 2, 3], [4], [1, 2], [3, 4]]
    assert repeated_pairs({1: 0, 2: 0, 3: 0, 4: 1}, earlier_rooms) == 4  # 1-2 twice, 1-3, 2-3
    assert repeated_pairs({1: 0, 2: 1, 3: 2, 4: 3}, earlier_rooms) == 0
