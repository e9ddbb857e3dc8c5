"""Benchmark: configure + start + broadcast + stop for one large class.

Run: ``DJANGO_DEBUG=1 python bench/bench_breakout.py [--students 3000] [--rooms 20]`` (add
``DATABASE_URL=postgres://...`` for PostgreSQL). It creates a throw-away test database (Django's
``test_`` prefix), so it never touches the configured one.

Absolute times depend on the machine, so each operation is also printed as a ratio to two floors
measured in the same run: one ``SELECT 1`` round trip, and the owner's room list (a read of the
same tree). The query count of each operation is printed too: it must not depend on the size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def timed(action: Callable[[], object], *, repeat: int = 1) -> tuple[float, int]:
    """Median wall time of ``action`` in seconds, and the queries of its last run."""
    durations = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            action()
            durations.append(time.perf_counter() - started)
        queries = len(captured.captured_queries)
    return statistics.median(durations), queries


def populate(students: int):
    from accounts.models import User
    from conversations.models import Attendee, Conversation

    owner = User.objects.create(username="bench-owner", display_name="Bench Owner")
    parent = Conversation.objects.create(name="Bench class")
    users = User.objects.bulk_create(
        [User(username=f"bench-student-{i}", display_name=f"Student {i}") for i in range(students)]
    )
    Attendee.objects.bulk_create(
        [Attendee(room=parent, user=owner, actor_id=owner.username, display_name="Bench Owner", participant_type=1)]
        + [
            Attendee(room=parent, user=user, actor_id=user.username, display_name=user.display_name, participant_type=3)
            for user in users
        ]
    )
    return owner, parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--rooms", type=int, default=20)
    args = parser.parse_args()

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from breakout.services import lifecycle
        from conversations.selectors import room_payloads_for_user

        owner, parent = populate(args.students)

        def select_one() -> None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()

        round_trip, _ = timed(select_one, repeat=200)
        operations = [
            (
                "configure",
                lambda: lifecycle.breakout_configure(
                    actor=owner, parent=parent, mode=1, amount=args.rooms, attendee_map_raw=""
                ),
            ),
            ("start", lambda: lifecycle.breakout_start(actor=owner, parent=parent)),
            ("broadcast", lambda: lifecycle.breakout_broadcast(actor=owner, parent=parent, message="Back in 5 min")),
            ("stop", lambda: lifecycle.breakout_stop(actor=owner, parent=parent)),
        ]
        results = [(name, *timed(action)) for name, action in operations]
        room_list, room_list_queries = timed(lambda: room_payloads_for_user(user=owner), repeat=5)

        print(f"{connection.vendor}: {args.students} students, {args.rooms} rooms")
        print(f"floor SELECT 1 round trip: {round_trip * 1000:9.3f} ms")
        print(f"floor owner's room list:   {room_list * 1000:9.3f} ms  ({room_list_queries} queries)")
        print(f"{'operation':<10} {'ms':>9} {'queries':>8} {'x SELECT 1':>11} {'x room list':>12}")
        for name, seconds, queries in results:
            ratios = f"{seconds / round_trip:11.1f} {seconds / room_list:12.2f}"
            print(f"{name:<10} {seconds * 1000:9.3f} {queries:8d} {ratios}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
