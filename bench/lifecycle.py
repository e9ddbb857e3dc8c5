"""The lifecycle part of ``make bench``: each operation of the breakout lifecycle at N students,
in process (the service functions the views call), against the ``executemany`` floor.

Run by ``bench/run.py`` in a subprocess on a throw-away database (``DATABASE_URL``), it prints one
JSON object. For each N and round: the floor (one ``executemany`` INSERT of N attendee-shaped
rows into a scratch table, in a transaction, then deleted), then for each mode (1 automatic, 2
manual with every student mapped, 3 free selection) configure, start, reorganize 10% of the
students (modes 1 and 2), broadcast, one switch (mode 3), stop, remove. Time and queries of
each; every time is also divided by the floor of the same round.
"""

# Every step closure runs in the iteration that made it, so the late binding B023 warns of is harmless.
# ruff: noqa: B023

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

ROOMS = 20


def measured(action: Callable[[], object]) -> tuple[float, int]:
    """Wall time and statements of ``action``. Statements are counted by an execute wrapper, not
    Django's debug cursor, whose formatting of every parameter would be part of the time."""
    count = 0

    def counting(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        began = time.perf_counter()
        action()
        elapsed = time.perf_counter() - began
    return elapsed, count


def populate(students: int, tag: str):
    from accounts.models import User
    from conversations.models import Attendee, Conversation

    owner = User.objects.create(username=f"owner-{tag}", display_name="Owner")
    parent = Conversation.objects.create(name=f"Class {tag}", type=Conversation.Type.GROUP, token=f"cls{tag}")
    users = User.objects.bulk_create(
        [User(username=f"s{tag}-{i}", display_name=f"Student {i}") for i in range(students)], batch_size=1000
    )
    Attendee.objects.bulk_create(
        [Attendee(room=parent, user=owner, actor_id=owner.username, display_name="Owner", participant_type=1)]
        + [
            Attendee(room=parent, user=user, actor_id=user.username, display_name=user.display_name, participant_type=3)
            for user in users
        ],
        batch_size=1000,
    )
    student_rows = list(Attendee.objects.filter(room=parent, participant_type=3).order_by("id"))
    return owner, parent, student_rows, users


def floor_executemany(rows: list[tuple]) -> float:
    """One ``executemany`` INSERT of the rows into the scratch table, committed, then emptied."""
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_floor (room_id, user_id, actor_type, actor_id, display_name, participant_type)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )
    elapsed = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_floor")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="30,300,3000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--modes", default="1,2,3")
    args = parser.parse_args()
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor (room_id integer, user_id integer, actor_type varchar(64),"
            " actor_id varchar(255), display_name varchar(255), participant_type integer)"
        )

    from breakout.services import lifecycle
    from conversations.models import Conversation

    modes = [int(m) for m in args.modes.split(",")]
    report: dict[str, object] = {"vendor": connection.vendor, "sizes": {}}
    for size in [int(s) for s in args.sizes.split(",")]:
        owner, parent, students, users = populate(size, f"{size}")
        rows = [(parent.pk, a.user_id, "users", a.actor_id, a.display_name, 3) for a in students]
        times: dict[str, list[float]] = defaultdict(list)
        ratios: dict[str, list[float]] = defaultdict(list)
        queries: dict[str, int] = {}
        floors: list[float] = []
        for number in range(args.rounds):
            floor = floor_executemany(rows)
            floors.append(floor)
            for mode in modes:
                attendee_map = {a.pk: index % ROOMS for index, a in enumerate(students)} if mode == 2 else {}
                steps: list[tuple[str, Callable[[], object]]] = [
                    (
                        "configure",
                        lambda mode=mode, attendee_map=attendee_map: lifecycle.breakout_configure(
                            actor=owner, parent=parent, mode=mode, amount=ROOMS, attendee_map=attendee_map
                        ),
                    ),
                    ("start", lambda: lifecycle.breakout_start(actor=owner, parent=parent)),
                ]
                if mode in (1, 2):
                    tenth = students[: max(1, size // 10)]
                    moves = {a.pk: (index + number + 1) % ROOMS for index, a in enumerate(tenth)}
                    steps.append(
                        (
                            "reorganize 10%",
                            lambda moves=moves: lifecycle.breakout_reorganize(
                                actor=owner, parent=parent, attendee_map=moves
                            ),
                        )
                    )
                steps.append(
                    ("broadcast", lambda: lifecycle.breakout_broadcast(actor=owner, parent=parent, message="Back in 5"))
                )
                if mode == 3:

                    def switch(number: int = number) -> object:
                        rooms = Conversation.objects.filter(parent=parent).order_by("id")
                        token = rooms.values_list("token", flat=True)[number % ROOMS]
                        return lifecycle.breakout_switch(actor=users[number % size], parent=parent, target=token)

                    steps.append(("switch", switch))
                steps += [
                    ("stop", lambda: lifecycle.breakout_stop(actor=owner, parent=parent)),
                    ("remove", lambda: lifecycle.breakout_remove(actor=owner, parent=parent)),
                ]
                for name, action in steps:
                    label = f"mode {mode} {name}"
                    elapsed, count = measured(action)
                    times[label].append(elapsed)
                    ratios[label].append(elapsed / floor)
                    queries.setdefault(label, count)
                    if queries[label] != count:
                        queries[label] = max(queries[label], count)
        ops = {}
        for label, values in times.items():
            ordered = sorted(values)
            ops[label] = {
                "ms median": round(statistics.median(values) * 1000, 2),
                "ms p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 2),
                "queries": queries[label],
                "x floor median": round(statistics.median(ratios[label]), 2),
                "x floor min": round(min(ratios[label]), 2),
                "x floor max": round(max(ratios[label]), 2),
            }
        report["sizes"][str(size)] = {  # type: ignore[index]
            "floor executemany ms median": round(statistics.median(floors) * 1000, 2),
            "floor ms min/max": [round(min(floors) * 1000, 2), round(max(floors) * 1000, 2)],
            "operations": ops,
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
