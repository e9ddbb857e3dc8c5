"""Fault test: the service under SIGKILL and a database restart. Exits non-zero on a failure.

    python tests/soak/fault.py [--rounds 4] [--students 3000] [--skip-kill] [--skip-restart]

1. SIGKILL of both gunicorn workers while a configure of a class of 3,000 students into 20
   rooms, and while a reorganize that moves every student, is running: afterwards (the master
   respawns the workers) the tree is the old one or the new one, never a mix (read with SQL),
   and the invariants hold. ``DATABASE_URL`` (PostgreSQL) selects a dedicated database
   ``<name>_fault`` beside it; without it a SQLite file is used.
2. A PostgreSQL instance of its own (initdb + pg_ctl on a free port in a temporary directory,
   as the ``postgres`` user when run as root) is stopped and started three times under a
   running gunicorn: while it is down the service answers 503 (the OCS envelope, not a 500), it
   answers again within ``RECOVERY_SECONDS``, and gives no 5xx once the database is back (the
   first restart is met by requests while the database is down, the others by a stale
   persistent connection, which the health check replaces).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.soak.harness import (  # noqa: E402
    V1,
    V4,
    app_password,
    django_setup,
    free_port,
    gunicorn,
    own_database,
    print_causes,
    raw_request,
    seed,
    server_errors_in_log,
    service_env,
    wait_until_up,
    workdir,
)

ROOMS = 20
RECOVERY_SECONDS = 10
RESTARTS = 3


# --- 1. SIGKILL during large writes --------------------------------------------------------------


def tree_state(token: str) -> dict[str, Any]:
    """The parent's mode and status, its rooms, and where every student sits (room index by
    ascending id), read with SQL."""
    from tests.reliability.invariants import attendee_model, conversation_model

    Conversation, Attendee = conversation_model(), attendee_model()
    parent = Conversation.objects.filter(token=token).values("pk", "breakout_room_mode", "breakout_room_status").get()
    rooms = list(Conversation.objects.filter(parent_id=parent["pk"]).order_by("pk").values_list("pk", flat=True))
    index = {pk: i for i, pk in enumerate(rooms)}
    placement: dict[str, list[int]] = {}
    for room_id, actor_id in Attendee.objects.filter(room_id__in=rooms, participant_type__in=[3, 5]).values_list(
        "room_id", "actor_id"
    ):
        placement.setdefault(actor_id, []).append(index[room_id])
    return {
        "parent_id": parent["pk"],
        "mode": parent["breakout_room_mode"],
        "status": parent["breakout_room_status"],
        "rooms": len(rooms),
        "placement": {actor: sorted(indices) for actor, indices in placement.items()},
        "moderator_rows": Attendee.objects.filter(room_id__in=rooms, participant_type__in=[1, 2]).count(),
    }


def student_attendee_ids(token: str) -> dict[str, int]:
    from tests.reliability.invariants import attendee_model

    return dict(
        attendee_model()
        .objects.filter(room__token=token, participant_type=3, actor_type="users")
        .values_list("actor_id", "pk")
    )


def kill_at(n: int, rounds: int, duration: float) -> float | None:
    """When round ``n`` kills the workers, in seconds after the request was sent: spread over the
    operation's measured ``duration``; ``None`` for the last round, which kills them right after
    the answer arrived (a committed change must survive the kill)."""
    return None if n == rounds - 1 else duration * (0.15 + 0.7 * n / max(rounds - 2, 1))


class KillRun:
    def __init__(self, server: Any, token: str, password: str, students: int) -> None:
        self.server, self.token, self.auth, self.students = server, token, ("teacher", password), students
        self.outcomes: dict[str, list[str]] = {"configure": [], "reorganize": []}
        self.mixes: list[str] = []

    def call(self, method: str, path: str, params: dict | None = None) -> tuple[int, Any]:
        return raw_request(self.server.port, method, path, auth=self.auth, params=params, timeout=300)

    def timed(self, method: str, path: str, params: dict | None = None) -> float:
        began = time.monotonic()
        status, payload = self.call(method, path, params)
        assert status == 200, (status, payload)
        return time.monotonic() - began

    def killed_during(self, method: str, path: str, params: dict | None, after: float | None) -> int:
        """Send the request, SIGKILL both workers ``after`` seconds later (``None``: once it was
        answered), wait for the respawn; returns the status the request got (0: the connection
        died with the worker)."""
        result: list[int] = []

        def send() -> None:
            try:
                result.append(self.call(method, path, params)[0])
            except OSError:
                result.append(0)

        thread = threading.Thread(target=send)
        thread.start()
        if after is None:
            thread.join(timeout=300)
        else:
            time.sleep(after)
        self.server.kill_workers()
        thread.join(timeout=300)
        wait_until_up(self.server.port)
        return result[0] if result else 0

    def check(self, operation: str, state: dict[str, Any], old: dict[str, Any], new: Any, status: int) -> None:
        from tests.reliability.invariants import tree_violations

        problems = tree_violations([state["parent_id"]])
        if state["placement"] == old["placement"] and state["mode"] == old["mode"] and state["rooms"] == old["rooms"]:
            outcome = "old"
        elif new(state):
            outcome = "new"
        else:
            outcome = "MIX"
        if status == 200 and outcome != "new":
            problems.append(f"the request answered 200 but the state is {outcome}")
        self.outcomes[operation].append(outcome if status else f"{outcome} (killed)")
        if outcome == "MIX" or problems:
            summary = {k: v for k, v in state.items() if k != "placement"}
            self.mixes.append(f"{operation}: {outcome} {summary} {problems[:5]}")

    def configure_rounds(self, rounds: int) -> None:
        path = f"{V1}/breakout-rooms/{self.token}"
        self.call("DELETE", path)
        duration = self.timed("POST", path, {"mode": 1, "amount": ROOMS})
        print(f"  a configure of {self.students} students into {ROOMS} rooms takes {duration:.2f} s", flush=True)

        def is_new(state: dict[str, Any]) -> bool:
            sizes = [0] * ROOMS
            for indices in state["placement"].values():
                if len(indices) != 1:
                    return False
                sizes[indices[0]] += 1
            return (
                state["mode"] == 1
                and state["rooms"] == ROOMS
                and len(state["placement"]) == self.students
                and max(sizes) - min(sizes) <= 1
            )

        for n in range(rounds):
            assert self.call("DELETE", path)[0] == 200
            old = tree_state(self.token)
            status = self.killed_during("POST", path, {"mode": 1, "amount": ROOMS}, kill_at(n, rounds, duration))
            self.check("configure", tree_state(self.token), old, is_new, status)

    def reorganize_rounds(self, rounds: int) -> None:
        ids = student_attendee_ids(self.token)
        names = sorted(ids)
        self.call("DELETE", f"{V1}/breakout-rooms/{self.token}")
        first = {str(ids[name]): i % ROOMS for i, name in enumerate(names)}
        configure = {"mode": 2, "amount": ROOMS, "attendeeMap": json.dumps(first)}
        assert self.call("POST", f"{V1}/breakout-rooms/{self.token}", configure)[0] == 200
        path = f"{V1}/breakout-rooms/{self.token}/attendees"
        shifted = {name: (i + 1) % ROOMS for i, name in enumerate(names)}
        duration = self.timed("POST", path, {"attendeeMap": json.dumps({str(ids[n]): r for n, r in shifted.items()})})
        print(f"  a reorganize moving {len(names)} students takes {duration:.2f} s", flush=True)
        for n in range(rounds):
            old = tree_state(self.token)
            target = {name: (old["placement"][name][0] + 1 + n) % ROOMS for name in names}
            attendee_map = json.dumps({str(ids[name]): room for name, room in target.items()})
            status = self.killed_during("POST", path, {"attendeeMap": attendee_map}, kill_at(n, rounds, duration))
            expected = {name: [room] for name, room in target.items()}
            self.check("reorganize", tree_state(self.token), old, lambda s, e=expected: s["placement"] == e, status)


def kill_test(base_url: str | None, rounds: int, students: int) -> list[str]:
    directory = workdir("fault-kill-")
    with own_database(base_url, "fault", directory) as database_url:
        engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        print(f"SIGKILL during large writes on {engine}", flush=True)
        env = service_env(database_url)
        token = seed(env, students=students)
        django_setup(database_url)
        with gunicorn(env, directory, timeout=300) as server:
            run = KillRun(server, token, app_password(server.port, "teacher"), students)
            run.configure_rounds(rounds)
            run.reorganize_rounds(rounds)
        for operation, outcomes in run.outcomes.items():
            print(f"  {operation}: {', '.join(outcomes)}")
        print_causes(server_errors_in_log(server.log))
        from django.db import connections

        connections.close_all()
    return [f"SIGKILL {mix}" for mix in run.mixes]


# --- 2. a PostgreSQL restart ---------------------------------------------------------------------


class OwnPostgres:
    """initdb + pg_ctl in a temporary directory on a free port (as ``postgres`` when root)."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries:
            raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
        self.bin = Path(binaries[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="fault-pg-"))
        self.data, self.log = self.dir / "data", self.dir / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def restart_test() -> list[str]:
    print("PostgreSQL restarts under a running service", flush=True)
    postgres = OwnPostgres()
    failures: list[str] = []
    recoveries: list[float] = []
    directory = workdir("fault-restart-")
    try:
        postgres.start()
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=postgres.port, user="postgres", autocommit=True) as connection:
            connection.execute("CREATE DATABASE breakout")
        env = service_env(f"postgres://postgres@127.0.0.1:{postgres.port}/breakout")
        seed(env, students=10)
        with gunicorn(env, directory) as server:
            auth = ("teacher", app_password(server.port, "teacher"))

            def rooms() -> int:
                try:
                    return raw_request(server.port, "GET", f"{V4}/room", auth=auth, timeout=30)[0]
                except OSError:
                    return 0

            warm = [rooms() for _ in range(10)]
            assert set(warm) == {200}, warm
            for cycle in range(1, RESTARTS + 1):
                postgres.stop()
                # The first cycle also calls while the database is down (503 expected); the others
                # restart it between two calls, as an operator would.
                down = [rooms() for _ in range(3)] if cycle == 1 else []
                if any(status != 503 for status in down):
                    failures.append(f"restart {cycle}: {down} while the database was down (503 expected)")
                postgres.start()
                back = time.monotonic()
                after: list[int] = []
                while time.monotonic() - back < RECOVERY_SECONDS:
                    after.append(rooms())
                    if after[-1] == 200:
                        break
                recovered = time.monotonic() - back
                recoveries.append(recovered)
                after += [rooms() for _ in range(12)]
                bad = [status for status in after if status >= 500 or status == 0]
                print(
                    f"  restart {cycle}: while down {down or 'no calls'}; answered 200 again after {recovered:.2f} s; "
                    f"{len(bad)} of {len(after)} requests after the restart failed ({after})",
                    flush=True,
                )
                if 200 not in after:
                    failures.append(f"restart {cycle}: no 200 within {RECOVERY_SECONDS} s after the database was back")
                if bad:
                    failures.append(f"restart {cycle}: {len(bad)} 5xx after the database was back")
        print_causes(server_errors_in_log(server.log))
        print(f"  {len(recoveries)} restarts: the service answered 200 again within {max(recoveries):.2f} s")
    finally:
        postgres.remove()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="Kills per operation (default 3)")
    parser.add_argument("--students", type=int, default=3000, help="Class size of the SIGKILL test (default 3000)")
    parser.add_argument("--skip-kill", action="store_true")
    parser.add_argument("--skip-restart", action="store_true")
    args = parser.parse_args()
    failures: list[str] = []
    began = time.monotonic()
    if not args.skip_kill:
        failures += kill_test(os.environ.get("DATABASE_URL"), args.rounds, args.students)
    if not args.skip_restart:
        failures += restart_test()
    for failure in failures:
        print(f"FAILURE {failure}")
    print(f"FAULT: failures={len(failures)} in {time.monotonic() - began:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
