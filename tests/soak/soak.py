"""Concurrency soak: gunicorn with 2 workers, concurrent clients over HTTP, then an SQL check of
the tree invariants. Exits non-zero on any 5xx or invariant violation.

    python tests/soak/soak.py [--seconds 90] [--students 30]

``DATABASE_URL`` (PostgreSQL) selects a dedicated database ``<name>_soak`` beside it (created
and dropped here); without it the soak runs on a SQLite file in a temporary directory.

Four mixes, one after the other, sharing the time budget:

1. class: students switch between breakout rooms (free mode) and post chat into them, while the
   owner loops remove -> configure -> start -> reorganize -> stop and a moderator renames rooms;
2. storm: every caller does random lifecycle operations on the parent and its rooms (configure,
   remove, start, stop, reorganize, switch, assistance, promote, demote, add, remove, delete of
   a breakout room, chat, rename, broadcast);
3. configure vs delete: fresh classes, each configured and deleted at the same moment;
4. removed while waiting: a moderator starts or stops while the owner removes them; afterwards
   nobody may have acted in a room after their removal from it (read from the chat).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.soak.harness import (  # noqa: E402
    V1,
    V4,
    Client,
    Tally,
    app_password,
    django_setup,
    gunicorn,
    manage,
    ocs_data,
    own_database,
    print_causes,
    seed,
    server_errors_in_log,
    service_env,
    workdir,
)

STUDENT_THREADS = 8


class Soak:
    def __init__(self, port: int, token: str, students: int, tally: Tally) -> None:
        self.port, self.parent, self.tally = port, token, tally
        names = ["teacher", "assistant"] + [f"student{n}" for n in range(1, students + 1)]
        passwords: dict[str, str] = {}
        threads = [threading.Thread(target=lambda n=n: passwords.__setitem__(n, app_password(port, n))) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.clients = {name: Client(port, name, passwords[name], tally) for name in names}
        self.owner, self.assistant = self.clients["teacher"], self.clients["assistant"]
        self.students = [self.clients[f"student{n}"] for n in range(1, students + 1)]
        self.owner.call("setup", "POST", f"{V4}/room/{token}/participants", {"newParticipant": "assistant"})
        assistant_id = self.attendee_ids(token)["assistant"]
        self.owner.call("setup", "POST", f"{V4}/room/{token}/moderators", {"attendeeId": assistant_id})

    def attendee_ids(self, token: str) -> dict[str, int]:
        status, payload = self.owner.call("GET participants", "GET", f"{V4}/room/{token}/participants")
        if status != 200:
            return {}
        return {p["actorId"]: p["attendeeId"] for p in ocs_data(payload) if p["actorType"] == "users"}

    def breakout_tokens(self, client: Client | None = None) -> list[str]:
        client = client or self.assistant
        status, payload = client.call("GET breakout-rooms", "GET", f"{V4}/room/{self.parent}/breakout-rooms")
        return [room["token"] for room in ocs_data(payload)] if status == 200 else []

    def random_map(self, ids: dict[str, int], rooms: int) -> str:
        chosen = random.sample(sorted(n for n in ids if n.startswith("student")), k=min(len(ids) - 2, 10))
        return json.dumps({str(ids[name]): random.randrange(rooms) for name in chosen if name in ids})

    # --- mix 1 ---------------------------------------------------------------------------------

    def owner_loop(self, until: float) -> None:
        while time.monotonic() < until:
            rooms = random.randint(2, 5)
            self.owner.call("DELETE breakout-rooms", "DELETE", f"{V1}/breakout-rooms/{self.parent}")
            self.owner.call(
                "POST configure",
                "POST",
                f"{V1}/breakout-rooms/{self.parent}",
                {"mode": random.choice([3, 3, 1]), "amount": rooms},
            )
            self.owner.call("POST start", "POST", f"{V1}/breakout-rooms/{self.parent}/rooms")
            attendee_map = self.random_map(self.attendee_ids(self.parent), rooms)
            self.owner.call(
                "POST reorganize", "POST", f"{V1}/breakout-rooms/{self.parent}/attendees", {"attendeeMap": attendee_map}
            )
            time.sleep(random.uniform(0, 0.3))
            self.owner.call("DELETE stop", "DELETE", f"{V1}/breakout-rooms/{self.parent}/rooms")

    def assistant_loop(self, until: float) -> None:
        n = 0
        while time.monotonic() < until:
            tokens = self.breakout_tokens()
            if tokens:
                n += 1
                self.assistant.call(
                    "PUT rename", "PUT", f"{V4}/room/{random.choice(tokens)}", {"roomName": f"Room {n}"}
                )
                self.assistant.call(
                    "PUT description",
                    "PUT",
                    f"{V4}/room/{random.choice(tokens)}/description",
                    {"description": f"table {n}"},
                )
            else:
                time.sleep(0.05)

    def student_loop(self, until: float, students: list[Client]) -> None:
        while time.monotonic() < until:
            student = random.choice(students)
            tokens = self.breakout_tokens(student)
            if not tokens:
                time.sleep(0.05)
                continue
            target = random.choice(tokens)
            student.call("POST switch", "POST", f"{V1}/breakout-rooms/{self.parent}/switch", {"target": target})
            for _ in range(random.randint(1, 3)):
                student.call("POST chat", "POST", f"{V1}/chat/{target}", {"message": f"hello from {student.username}"})
            if random.random() < 0.2:
                student.call("GET chat", "GET", f"{V1}/chat/{target}", {"limit": 20})

    def mix_class(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        share = [self.students[i::STUDENT_THREADS] for i in range(STUDENT_THREADS)]
        jobs: list[Callable[[], None]] = [lambda: self.owner_loop(until), lambda: self.assistant_loop(until)]
        jobs += [lambda s=s: self.student_loop(until, s) for s in share if s]
        run_threads(jobs)

    # --- mix 2 ---------------------------------------------------------------------------------

    def storm_step(self) -> None:
        parent = self.parent
        caller = random.choice([self.owner, self.assistant, *random.sample(self.students, 3)])
        tokens = self.breakout_tokens()
        room = random.choice(tokens) if tokens else parent
        ids = self.attendee_ids(parent) if random.random() < 0.3 else {}
        someone = random.choice(self.students).username
        operations: list[tuple[str, str, str, dict | None]] = [
            ("POST configure", "POST", f"{V1}/breakout-rooms/{parent}", {"mode": random.randint(1, 3), "amount": 3}),
            ("DELETE breakout-rooms", "DELETE", f"{V1}/breakout-rooms/{parent}", None),
            ("POST start", "POST", f"{V1}/breakout-rooms/{parent}/rooms", None),
            ("DELETE stop", "DELETE", f"{V1}/breakout-rooms/{parent}/rooms", None),
            ("POST switch", "POST", f"{V1}/breakout-rooms/{parent}/switch", {"target": room}),
            ("POST assistance", "POST", f"{V1}/breakout-rooms/{room}/request-assistance", None),
            ("DELETE assistance", "DELETE", f"{V1}/breakout-rooms/{room}/request-assistance", None),
            ("POST broadcast", "POST", f"{V1}/breakout-rooms/{parent}/broadcast", {"message": "all back"}),
            ("POST chat", "POST", f"{V1}/chat/{room}", {"message": "storm"}),
            ("PUT rename", "PUT", f"{V4}/room/{room}", {"roomName": "Renamed"}),
            ("POST participants", "POST", f"{V4}/room/{room}/participants", {"newParticipant": someone}),
            ("DELETE room (breakout)", "DELETE", f"{V4}/room/{room}" if room != parent else f"{V4}/room/zzzz", None),
        ]
        if ids:
            new_map = self.random_map(ids, 3)
            operations += [
                ("POST reorganize", "POST", f"{V1}/breakout-rooms/{parent}/attendees", {"attendeeMap": new_map}),
                ("POST moderators", "POST", f"{V4}/room/{parent}/moderators", {"attendeeId": ids.get(someone, 0)}),
                ("DELETE moderators", "DELETE", f"{V4}/room/{parent}/moderators", {"attendeeId": ids.get(someone, 0)}),
                ("DELETE attendees", "DELETE", f"{V4}/room/{parent}/attendees", {"attendeeId": ids.get(someone, 0)}),
            ]  # fmt: skip
        endpoint, method, path, params = random.choice(operations)
        caller.call(endpoint, method, path, params)

    def mix_storm(self, seconds: float, threads: int = 8) -> None:
        until = time.monotonic() + seconds

        def loop() -> None:
            while time.monotonic() < until:
                self.storm_step()

        run_threads([loop] * threads)
        # Bring back anyone the storm removed from the class, for the next mix's sake.
        for student in self.students:
            self.owner.call(
                "setup", "POST", f"{V4}/room/{self.parent}/participants", {"newParticipant": student.username}
            )

    # --- mix 3 ---------------------------------------------------------------------------------

    def mix_configure_vs_delete(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        rounds = 0
        while time.monotonic() < until:
            status, payload = self.owner.call("POST room", "POST", f"{V4}/room", {"roomType": 2, "roomName": "Race"})
            if status != 201:
                continue
            token = ocs_data(payload)["token"]
            participants = f"{V4}/room/{token}/participants"
            self.owner.call("POST participants", "POST", participants, {"newParticipant": "soak", "source": "groups"})
            self.owner.call("POST participants", "POST", participants, {"newParticipant": "assistant"})
            promote = {"attendeeId": self.attendee_ids(token).get("assistant", 0)}
            self.owner.call("POST moderators", "POST", f"{V4}/room/{token}/moderators", promote)
            barrier = threading.Barrier(3)
            requests = [
                (self.owner, "POST configure", "POST", f"{V1}/breakout-rooms/{token}", {"mode": 1, "amount": 4}),
                (self.assistant, "DELETE room", "DELETE", f"{V4}/room/{token}", None),
                (self.assistant, "POST start", "POST", f"{V1}/breakout-rooms/{token}/rooms", None),
            ]
            run_threads([lambda r=r, b=barrier: (b.wait(timeout=30), r[0].call(*r[1:])) for r in requests])
            rounds += 1
        print(f"  configure vs delete: {rounds} rounds")

    # --- mix 4 ---------------------------------------------------------------------------------

    def mix_removed_while_waiting(self, seconds: float) -> None:
        """A moderator starts or stops while the owner removes them from the parent: whatever
        order the lock gives, the removed moderator must not act afterwards (checked in the chat)."""
        until = time.monotonic() + seconds
        rounds = 0
        parent = self.parent
        while time.monotonic() < until:
            self.owner.call("setup", "POST", f"{V4}/room/{parent}/participants", {"newParticipant": "assistant"})
            assistant_id = self.attendee_ids(parent).get("assistant", 0)
            self.owner.call("setup", "POST", f"{V4}/room/{parent}/moderators", {"attendeeId": assistant_id})
            self.owner.call("POST configure", "POST", f"{V1}/breakout-rooms/{parent}", {"mode": 1, "amount": 3})
            barrier = threading.Barrier(2)
            state = f"{V1}/breakout-rooms/{parent}/rooms"
            removal = f"{V4}/room/{parent}/attendees"
            requests = [
                (self.assistant, "POST start", "POST", state, None)
                if rounds % 2 == 0
                else (self.assistant, "DELETE stop", "DELETE", state, None),
                (self.owner, "DELETE attendees", "DELETE", removal, {"attendeeId": assistant_id}),
            ]
            run_threads([lambda r=r, b=barrier: (b.wait(timeout=30), r[0].call(*r[1:])) for r in requests])
            rounds += 1
        print(f"  removed while waiting: {rounds} rounds")


def run_threads(jobs: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def guarded(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # reported below: a crash of the harness is a failure too
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=90, help="Total time of the three mixes (default 90)")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL to put the soak database beside")
    args = parser.parse_args()
    import os

    base_url = args.database_url or os.environ.get("DATABASE_URL")
    directory = workdir("soak-")
    with own_database(base_url, "soak", directory) as database_url:
        engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        print(f"soak on {engine}: {database_url}")
        env = service_env(database_url)
        token = seed(env, students=args.students)
        manage(
            env, "addgroup", "soak", *[arg for n in range(1, args.students + 1) for arg in ("--member", f"student{n}")]
        )
        tally = Tally()
        with gunicorn(env, directory) as server:
            soak = Soak(server.port, token, args.students, tally)
            began = time.monotonic()
            for name, share, mix in [
                ("class: chat and switch against the owner's lifecycle loop", 0.40, soak.mix_class),
                ("storm: random lifecycle operations", 0.30, soak.mix_storm),
                ("configure racing a delete of the parent", 0.15, soak.mix_configure_vs_delete),
                ("a moderator starts or stops while being removed", 0.15, soak.mix_removed_while_waiting),
            ]:
                before, errors_before = tally.requests, tally.server_errors
                print(f"mix {name} ({args.seconds * share:.0f} s)", flush=True)
                mix(args.seconds * share)
                print(f"  {tally.requests - before} requests, {tally.server_errors - errors_before} 5xx", flush=True)
            took = time.monotonic() - began
        django_setup(database_url)
        from tests.reliability.invariants import acts_after_removal, tree_violations

        violations = tree_violations() + acts_after_removal()
        causes = server_errors_in_log(server.log)
    print(f"{engine}: {tally.requests} requests in {took:.0f} s; status counts:")
    for (endpoint, status), n in sorted(tally.statuses.items()):
        print(f"  {n:6d}  {status}  {endpoint}")
    if tally.errors:
        print(f"transport errors: {dict(tally.errors)}")
    if tally.server_errors:
        print(f"5xx by endpoint: {tally.server_errors_by_endpoint()}")
    print_causes(causes)
    for violation in violations[:50]:
        print(f"VIOLATION {violation}")
    print(f"SOAK {engine}: requests={tally.requests} 5xx={tally.server_errors} violations={len(violations)}")
    print(f"(gunicorn log kept in {directory})")
    return 1 if tally.server_errors or violations or tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
