"""``make bench``: the whole benchmark suite, one command (never part of ``make test``).

    make bench                       # or: .venv/bin/python bench/run.py [--quick]

Needs PostgreSQL (``BENCH_POSTGRES_URL``, default ``postgres://postgres@127.0.0.1:5432/bench``:
throw-away databases ``<name>_lc``/``_http``/``_live_bench`` are created beside it and dropped)
and Redis at ``redis://127.0.0.1:6379/0`` (the production recipe's cache), and ``wrk``
(``bench/setup.sh`` installs Debian's package). Ports ``BENCH_PORT+1`` .. ``BENCH_PORT+5``
(default 18800).

Parts, each a ratio to a floor measured in the same run, interleaved, with the spread of the
rounds (see ``docs/performance.md`` for how to read them):

1. lifecycle at N = 30, 300, 3,000 (``bench/lifecycle.py``) on PostgreSQL and SQLite, against
   one ``executemany`` of the same rows;
2. the four hot reads and authentication under wrk, against the floor views of ``bench/floor.py``,
   on the server ``make serve`` runs (SQLite, gunicorn + 2 uvicorn workers, ``project.asgi``) and
   on the README's production recipe (PostgreSQL + Redis, same server, 4 workers); the floor
   under ASGI against gunicorn's sync workers;
3. the switch flood (200 students, the teacher stopping/starting every 2 s) on both, then the SQL
   check of the tree invariants;
4. 2,000 waiting clients (``bench/bench_live.py``) on both.

The report (markdown) goes to stdout and ``var/bench/<time>/report.md``, raw figures beside it
in ``results.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import http_load  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# A waiting-clients run takes about a minute and a half (migrate, seed, 2,000 connects and their
# first reads, the wake, at most 30 s of timeouts); one that hangs must not eat the suite's budget.
LIVE_PART_LIMIT_SECONDS = 180


@contextlib.contextmanager
def postgres_database(base_url: str, suffix: str) -> Iterator[str]:
    import psycopg

    parts = urllib.parse.urlparse(base_url)
    name = f"{parts.path.lstrip('/') or 'bench'}_{suffix}"
    admin_url = base_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def timed(results: dict[str, object], part: str) -> Iterator[None]:
    """Record the wall time of one part (seconds, with the load average at its end) under
    ``results["parts"]``; the report prints them."""
    began = time.monotonic()
    log(f"{part}: started")
    try:
        yield
    finally:
        elapsed = round(time.monotonic() - began, 1)
        parts = results.setdefault("parts", {})
        assert isinstance(parts, dict)
        parts[part] = {"seconds": elapsed, "load at its end": round(os.getloadavg()[0], 1)}
        log(f"{part}: {elapsed} s")


def lifecycle(env: dict[str, str], *, sizes: str, rounds: int) -> dict:
    out = http_load.python("bench/lifecycle.py", "--sizes", sizes, "--rounds", str(rounds), env=env, timeout=1200)
    return json.loads(out.strip().splitlines()[-1])


def http_part(
    label: str,
    env: dict[str, str],
    workdir: Path,
    port: int,
    *,
    workers: int,
    args: argparse.Namespace,
    sync_port: int,
    flood_students: int,
) -> dict:
    log(f"{label}: seeding")
    seed = json.loads(http_load.python("bench/seed.py", "--students", str(args.students), env=env).strip())
    result: dict[str, object] = {}
    with http_load.server(label, env, port, workers=workers, kind="asgi", logdir=workdir) as srv:
        log(f"{label}: reads and authentication under wrk")
        result["reads"] = http_load.reads(
            srv, seed, rounds=args.rounds, seconds=args.seconds, connections=args.connections
        )
        if sync_port:
            with http_load.server(f"{label}-sync", env, sync_port, workers=2, kind="sync", logdir=workdir) as sync:
                log(f"{label}: the floor under ASGI vs sync workers")
                result["asgi vs sync"] = http_load.floors_compare(
                    srv, sync, seed, rounds=args.rounds, seconds=args.seconds, connections=args.connections
                )
        if flood_students:
            log(f"{label}: switch flood")
            result["flood"] = http_load.flood(srv, seed, students=flood_students, seconds=args.flood_seconds)
    if flood_students:
        result["flood"]["invariant violations"] = http_load.invariants(env)  # type: ignore[index]
    return result


def live_part(env: dict[str, str], port: int, clients: int, *, settle: float) -> str:
    """``bench/bench_live.py`` (it waits until the server is idle, at most ``settle`` s, before
    the post, and bounds every request), with a hard limit on the whole run."""
    command = [sys.executable, "bench/bench_live.py", "--clients", str(clients), "--port", str(port)]
    try:
        done = subprocess.run(
            [*command, "--settle", str(settle)], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=LIVE_PART_LIMIT_SECONDS, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as error:
        return f"(did not finish within {LIVE_PART_LIMIT_SECONDS} s) {str(error.stderr or '')[-1500:]}"
    return done.stdout + (f"\n(exit {done.returncode}) {done.stderr[-1500:]}" if done.returncode else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, one short round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved wrk rounds")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--students", type=int, default=200, help="students of the switch flood")
    parser.add_argument("--flood-seconds", type=float, default=20.0)
    parser.add_argument(
        "--sqlite-flood-students",
        type=int,
        default=0,
        help="students of a switch flood on SQLite too (off: 200 writers exceed SQLite's 30 s busy timeout)",
    )
    parser.add_argument("--lifecycle-rounds", type=int, default=3)
    parser.add_argument("--live-clients", type=int, default=2000)
    parser.add_argument(
        "--live-settle", type=float, default=45.0, help="most seconds for the waiting clients' first reads"
    )
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: lifecycle,http,live")
    args = parser.parse_args()
    sizes = "30,300,3000"
    if args.quick:
        args.rounds, args.seconds, args.flood_seconds, args.lifecycle_rounds = 1, 1.0, 4.0, 1
        args.live_clients, args.students, sizes, args.live_settle = 50, 40, "30,300", 10.0
        args.sqlite_flood_students = min(args.sqlite_flood_students, 20)
    skip = set(filter(None, args.skip.split(",")))
    postgres = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/bench")
    redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    port = int(os.environ.get("BENCH_PORT", "18800"))
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = ROOT / "var" / "bench" / stamp
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    results: dict[str, object] = {
        "started": stamp,
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}",
        "args": vars(args),
    }

    if "lifecycle" not in skip:
        with timed(results, "lifecycle on PostgreSQL"), postgres_database(postgres, "lc") as url:
            results["lifecycle postgresql"] = lifecycle(
                http_load.base_env(url), sizes=sizes, rounds=args.lifecycle_rounds
            )
        with timed(results, "lifecycle on SQLite"):
            results["lifecycle sqlite"] = lifecycle(
                http_load.base_env(f"sqlite:///{workdir / 'lifecycle.sqlite3'}"),
                sizes=sizes,
                rounds=max(1, args.lifecycle_rounds - 1),
            )
    if "http" not in skip:
        with timed(results, "reads, authentication, ASGI vs sync: make serve (SQLite)"):
            results["make serve (SQLite, 2 uvicorn workers)"] = http_part(
                "serve", http_load.base_env(f"sqlite:///{workdir / 'http.sqlite3'}"), workdir, port + 1,
                workers=2, args=args, sync_port=port + 2, flood_students=args.sqlite_flood_students,
            )  # fmt: skip
        production = "reads, authentication, switch flood: production (PostgreSQL + Redis)"
        with timed(results, production), postgres_database(postgres, "http") as url:
            results["production recipe (PostgreSQL + Redis, 4 uvicorn workers)"] = http_part(
                "production", http_load.base_env(url, REDIS_URL=redis), workdir, port + 3,
                workers=4, args=args, sync_port=0, flood_students=args.students,
            )  # fmt: skip
    if "live" not in skip:
        with timed(results, "2,000 waiting clients on SQLite"):
            results["live SQLite"] = live_part(
                http_load.base_env(""), port + 4, args.live_clients, settle=args.live_settle
            )
        with timed(results, "2,000 waiting clients on PostgreSQL"):
            results["live PostgreSQL"] = live_part(
                http_load.base_env(postgres), port + 5, args.live_clients, settle=args.live_settle
            )
    results["minutes"] = round((time.monotonic() - began) / 60, 1)
    results["load after"] = os.getloadavg()
    (workdir / "results.json").write_text(json.dumps(results, indent=2))
    from bench.report import markdown

    text = markdown(results)
    (workdir / "report.md").write_text(text)
    print(text)
    log(f"done in {results['minutes']} min; {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
