"""Benchmark of the assignment algorithms (breakout/assignment.py), no database.

Reports, for several rounds in a row, the time of a fresh mix and its repeated pairs against a
random shuffle of the same people (the floor: what Talk's automatic mode does), and the social
golfer case (32 people, 8 rooms of 4, 10 rounds: a schedule with no repeat at all exists, so the
lower bound is 0).

    .venv/bin/python bench/bench_assignment.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from breakout.assignment import Constraints, assignment_plan, repeated_pairs  # noqa: E402


def rounds_of(people: list[int], amount: int, rounds: int, *, fresh: bool) -> tuple[list[int], list[float]]:
    earlier_rooms: list[list[int]] = []
    repeats, seconds = [], []
    for number in range(rounds):
        began = time.perf_counter()
        plan = assignment_plan(people=people, amount=amount, seed=number, earlier_rooms=earlier_rooms if fresh else ())
        seconds.append(time.perf_counter() - began)
        repeats.append(repeated_pairs(plan.room_of, earlier_rooms))
        earlier_rooms.extend(plan.rooms(amount))
    return repeats, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    print("| case | strategy | repeated pairs per round | total | seconds per round (median, max) |")
    print("|---|---|---|---|---|")
    for label, people, amount, rounds in (
        ("social golfer 32 / 8 x 4", list(range(32)), 8, 10),
        ("3,000 people / 20 rooms", list(range(1, 3001)), 20, args.rounds),
    ):
        for strategy in ("random", "fresh"):
            repeats, seconds = rounds_of(people, amount, rounds, fresh=strategy == "fresh")
            print(
                f"| {label} | {strategy} | {', '.join(map(str, repeats))} | {sum(repeats)} "
                f"| {statistics.median(seconds):.3f}, {max(seconds):.3f} |"
            )
    people = list(range(1, 3001))
    teams = [people[index::20] for index in range(20)]
    began = time.perf_counter()
    assignment_plan(
        people=people,
        amount=20,
        seed=1,
        constraints=Constraints(spread_groups=teams, keep_apart=[people[:20]], keep_together=[people[100:104]]),
    )
    print(
        f"\n3,000 people / 20 rooms with 20 spread groups, keep-apart and keep-together: "
        f"{time.perf_counter() - began:.3f} s"
    )
    print("Lower bound for the social golfer case: 0 repeated pairs (a 10-round schedule without repeats exists).")


if __name__ == "__main__":
    main()
