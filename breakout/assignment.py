"""Who goes into which breakout room: balanced, reproducible, constrained and fresh mixes.

Pure functions over attendee ids, no database: the lifecycle services read the people, the
constraints and the earlier rounds, call ``assignment_plan`` and write the result.

- **Balanced**: room sizes differ by at most one, unless ``keep_together`` makes that impossible
  (a group larger than a room, or groups that do not pack); then the largest room is kept as
  small as the greedy packing finds.
- **Reproducible**: the same ``seed``, people and rooms give the same assignment. Nothing here
  depends on the clock; the improvement phase is bounded by a step count, not by time.
- **Constrained**: ``keep_apart`` (no two members of a group in one room), ``keep_together`` (all
  members of a group in one room) and ``spread_groups`` (members of a group spread as evenly as
  possible over the rooms). Infeasible sets raise ``InfeasibleConstraints`` with the ids involved.
- **Fresh**: with ``earlier_rooms`` (the members of each room of earlier rounds), people are
  placed so that pairs who already shared a room meet again as rarely as possible;
  ``repeated_pairs`` counts the pairs that share a room again, once for each earlier room they
  shared.

The search is a greedy placement (hardest units first, each into the room where it costs least)
followed by a bounded improvement phase of swaps between two people of equal footing, which keeps
the room sizes. Costs are sums over pairs in the same room: a keep-apart pair weighs more than
every soft cost together, a spread pair (two members of one group) ``SPREAD_WEIGHT``, and a repeat
1 for each earlier room the two shared. Every kind of constraint is a list of groups, so the cost
of a person in a room is a sum over the person's groups of how many members are there: placing
someone costs O(groups x rooms), whatever the class size.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

SPREAD_WEIGHT = 1_000
IMPROVEMENT_PASSES = 4
MAX_TRIES = 20
WORK_PER_TRIES = 1_000
CANDIDATES_PER_ROOM = 12


class InfeasibleConstraints(Exception):
    """No assignment keeps the constraints; ``ids`` are the attendee ids that conflict."""

    def __init__(self, ids: Iterable[int]) -> None:
        self.ids = sorted(set(ids))
        super().__init__(f"conflicting attendees: {self.ids}")


@dataclass(frozen=True)
class Constraints:
    keep_apart: Sequence[Sequence[int]] = ()
    keep_together: Sequence[Sequence[int]] = ()
    spread_groups: Sequence[Sequence[int]] = ()

    def __bool__(self) -> bool:
        return bool(self.keep_apart or self.keep_together or self.spread_groups)


@dataclass(frozen=True)
class Assignment:
    room_of: dict[int, int]
    """Attendee id -> 0-based room index."""
    repeated_pairs: int = 0
    """Pairs in one room now that already shared a room in an earlier round."""

    def rooms(self, amount: int) -> list[list[int]]:
        members: list[list[int]] = [[] for _ in range(amount)]
        for person, room in sorted(self.room_of.items()):
            members[room].append(person)
        return members


def repeated_pairs(room_of: Mapping[int, int], earlier_rooms: Iterable[Iterable[int]]) -> int:
    """Pairs in one room now that already shared a room, once per earlier room they shared."""
    total = 0
    for members in earlier_rooms:
        per_room = Counter(room_of[person] for person in set(members) if person in room_of)
        total += sum(count * (count - 1) // 2 for count in per_room.values())
    return total


def assignment_plan(
    *,
    people: Sequence[int],
    amount: int,
    seed: int | None = None,
    constraints: Constraints = Constraints(),  # noqa: B008 - frozen, never mutated
    earlier_rooms: Sequence[Sequence[int]] = (),
) -> Assignment:
    """Place every id of ``people`` (distinct attendee ids) into one of ``amount`` rooms."""
    if amount < 1:
        raise ValueError("amount must be at least 1")
    rng = random.Random(seed)
    order = sorted(set(people))
    if len(order) != len(people):
        raise ValueError("people must be distinct")
    if not constraints and not earlier_rooms:
        # Talk's automatic mode: shuffle, the k-th goes to room k mod amount (contract 1.1).
        rng.shuffle(order)
        return Assignment({person: index % amount for index, person in enumerate(order)})
    # Small classes can afford several tries from different starts (all drawn from the seed).
    best: _Search | None = None
    for _ in range(max(1, min(MAX_TRIES, WORK_PER_TRIES // max(1, len(order))))):
        search = _Search(order, amount, random.Random(rng.random()), constraints, earlier_rooms)
        search.place_greedily()
        search.improve()
        if best is None or search.total_cost() < best.total_cost():
            best = search
    assert best is not None
    best.raise_if_hard_violations()
    room_of = dict(best.room_of)
    return Assignment(room_of, repeated_pairs(room_of, earlier_rooms))


class _GroupKind:
    """Groups of one kind (keep-apart, spread, earlier rooms): who is in which group, and how
    many members of each group each room holds now."""

    def __init__(self, groups: Iterable[Iterable[int]], weight: int, amount: int, known: set[int]) -> None:
        self.groups = [sorted(set(group) & known) for group in groups]
        self.groups = [group for group in self.groups if len(group) > 1]
        self.weight = weight
        self.of: dict[int, list[int]] = defaultdict(list)
        for index, group in enumerate(self.groups):
            for person in group:
                self.of[person].append(index)
        self.count = [[0] * amount for _ in self.groups]

    def add_costs(self, person: int, costs: list[int], here: int | None) -> None:
        weight, count = self.weight, self.count
        for group in self.of.get(person, ()):
            row = count[group]
            for room, members in enumerate(row):
                costs[room] += weight * members
            if here is not None:
                costs[here] -= weight

    def shared(self, a: int, b: int) -> int:
        groups_of_a = self.of.get(a)
        return len(set(groups_of_a) & set(self.of.get(b, ()))) if groups_of_a else 0

    def move(self, person: int, room: int, step: int) -> None:
        count = self.count
        for group in self.of.get(person, ()):
            count[group][room] += step


@dataclass
class _Search:
    people: list[int]
    amount: int
    rng: random.Random
    constraints: Constraints
    earlier_rooms: Sequence[Sequence[int]]
    room_of: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = set(self.people)
        groups = [*self.constraints.keep_apart, *self.constraints.keep_together, *self.constraints.spread_groups]
        unknown = {person for group in groups for person in group if person not in known}
        if unknown:
            raise InfeasibleConstraints(unknown)
        self.units = self._units_kept_together()
        self.unit_of = {person: index for index, unit in enumerate(self.units) for person in unit}
        self.met = _GroupKind(self.earlier_rooms, 1, self.amount, known)
        self.spread = _GroupKind(self.constraints.spread_groups, SPREAD_WEIGHT, self.amount, known)
        # A keep-apart pair outweighs every soft cost a person can have in a room together.
        most_groups = max((len(self.spread.of[p]) * SPREAD_WEIGHT + len(self.met.of[p]) for p in known), default=0)
        self.apart = _GroupKind(self.constraints.keep_apart, most_groups * len(known) + 1, self.amount, known)
        self.kinds = (self.apart, self.spread, self.met)
        self._check_apart_feasibility()
        self.load = [0] * self.amount

    def _units_kept_together(self) -> list[list[int]]:
        parent = {person: person for person in self.people}

        def root(person: int) -> int:
            while parent[person] != person:
                parent[person] = parent[parent[person]]
                person = parent[person]
            return person

        for group in self.constraints.keep_together:
            members = list(group)
            for other in members[1:]:
                parent[root(other)] = root(members[0])
        units: dict[int, list[int]] = defaultdict(list)
        for person in self.people:
            units[root(person)].append(person)
        return [sorted(unit) for unit in units.values()]

    def _check_apart_feasibility(self) -> None:
        for group in self.apart.groups:
            by_unit: dict[int, list[int]] = defaultdict(list)
            for person in group:
                by_unit[self.unit_of[person]].append(person)
            together = [person for members in by_unit.values() if len(members) > 1 for person in members]
            if together:
                raise InfeasibleConstraints(together)
            if len(by_unit) > self.amount:
                raise InfeasibleConstraints(group)

    # Costs ----------------------------------------------------------------------------------

    def room_costs(self, person: int) -> list[int]:
        """What ``person`` costs in each room with the others placed as now: the sum of the
        weights of its pairs with the people there (itself excluded)."""
        costs = [0] * self.amount
        here = self.room_of.get(person)
        for kind in self.kinds:
            kind.add_costs(person, costs, here)
        return costs

    def total_cost(self) -> int:
        return sum(self.room_costs(person)[room] for person, room in self.room_of.items()) // 2

    def pair_weight(self, a: int, b: int) -> int:
        return sum(kind.weight * kind.shared(a, b) for kind in self.kinds)

    def _enter(self, person: int, room: int) -> None:
        self.room_of[person] = room
        self.load[room] += 1
        for kind in self.kinds:
            kind.move(person, room, 1)

    def _leave(self, person: int) -> None:
        room = self.room_of.pop(person)
        self.load[room] -= 1
        for kind in self.kinds:
            kind.move(person, room, -1)

    # Greedy placement -----------------------------------------------------------------------

    def place_greedily(self) -> None:
        total, amount = len(self.people), self.amount
        floor, extra = divmod(total, amount)
        ceiling = floor + (1 if extra else 0)
        units = list(self.units)
        self.rng.shuffle(units)
        # Hardest first: big units, then units with many constrained members.
        units.sort(key=lambda unit: (-len(unit), -sum(len(self.apart.of.get(p, ())) for p in unit)))
        full_rooms = 0  # rooms holding ``ceiling`` people while ``extra`` > 0
        for unit in units:
            size = len(unit)
            costs = self.room_costs(unit[0])
            for person in unit[1:]:
                costs = [total + more for total, more in zip(costs, self.room_costs(person), strict=True)]
            tiebreak = self.rng.random()
            best: tuple[int, int, int, int] | None = None
            best_room = 0
            for room in range(amount):
                after = self.load[room] + size
                fits = after <= ceiling and (after <= floor or not extra or full_rooms < extra)
                overflow = 0 if fits else after - (ceiling if extra and full_rooms < extra else floor)
                # Ties go to a room picked by the seed, not always to the first one.
                key = (overflow, costs[room], self.load[room], (room + int(tiebreak * amount)) % amount)
                if best is None or key < best:
                    best, best_room = key, room
            before = self.load[best_room]
            for person in unit:
                self._enter(person, best_room)
            if extra and before <= floor < self.load[best_room]:
                full_rooms += 1

    # Improvement ----------------------------------------------------------------------------

    def improve(self) -> None:
        """Swaps of two single people (outside keep-together units) between rooms while a swap
        lowers the total cost. Sizes never change. Bounded by passes, so seeded runs repeat."""
        singles = [person for person in self.people if len(self.units[self.unit_of[person]]) == 1]
        if not singles or self.amount < 2:
            return
        members: list[list[int]] = [[] for _ in range(self.amount)]
        for person in singles:
            members[self.room_of[person]].append(person)
        for _ in range(IMPROVEMENT_PASSES):
            conflicted = [person for person in singles if self._could_do_better(person)]
            if not conflicted:
                return
            self.rng.shuffle(conflicted)
            improved = False
            for person in conflicted:
                here = self.room_of[person]
                costs = self.room_costs(person)
                current = costs[here]
                better = sorted((room for room in range(self.amount) if costs[room] < current), key=costs.__getitem__)
                best_delta, best_other = 0, None
                for room in better[:3]:
                    pool = members[room]
                    sample = pool if len(pool) <= CANDIDATES_PER_ROOM else self.rng.sample(pool, CANDIDATES_PER_ROOM)
                    for other in sample:
                        other_costs = self.room_costs(other)
                        between = self.pair_weight(person, other)
                        delta = costs[room] - between + other_costs[here] - between - current - other_costs[room]
                        if delta < best_delta:
                            best_delta, best_other = delta, other
                if best_other is not None:
                    there = self.room_of[best_other]
                    self._leave(person)
                    self._leave(best_other)
                    self._enter(person, there)
                    self._enter(best_other, here)
                    members[here].remove(person)
                    members[there].remove(best_other)
                    members[there].append(person)
                    members[here].append(best_other)
                    improved = True
            if not improved:
                return

    def _could_do_better(self, person: int) -> bool:
        costs = self.room_costs(person)
        return costs[self.room_of[person]] > min(costs)

    def raise_if_hard_violations(self) -> None:
        conflicting: set[int] = set()
        for index, group in enumerate(self.apart.groups):
            if any(count > 1 for count in self.apart.count[index]):
                by_room: dict[int, list[int]] = defaultdict(list)
                for person in group:
                    by_room[self.room_of[person]].append(person)
                conflicting.update(p for members in by_room.values() if len(members) > 1 for p in members)
        if conflicting:
            raise InfeasibleConstraints(conflicting)
