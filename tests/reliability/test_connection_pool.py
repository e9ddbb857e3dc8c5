"""PostgreSQL connections per process are pooled (``DATABASE_POOL_SIZE``), and a switch flood on a
real server (gunicorn, uvicorn workers, ``project.asgi``) neither opens more connections than the
pools hold nor answers anything but 200 or the contract's 400 ``status`` while the teacher stops
and starts; the tree invariants hold afterwards.

The flood test samples ``pg_stat_activity``: a sample can only miss connections, so the bound it
asserts never fails by chance; nothing depends on timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from typing import Any

import psycopg
import pytest
from django.db import connection

from tests.project.test_settings import ROOT, load_settings

PROBE = (
    "import django, json; django.setup(); from django.conf import settings; "
    "d = settings.DATABASES['default']; print(json.dumps([d['CONN_MAX_AGE'], d['OPTIONS'].get('pool')]))"
)
POSTGRES = "postgres://postgres@127.0.0.1:5432/anything"


def database_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """``load_settings`` with a probe of the database settings (outside pytest: TESTING false)."""
    import os

    base = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    base.update({"DJANGO_SETTINGS_MODULE": "project.settings", "DJANGO_SECRET_KEY": "k" * 50, **env})
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60, check=False
    )


def test_postgresql_connections_are_pooled_per_process_by_default() -> None:
    result = database_settings(DATABASE_URL=POSTGRES)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [0, {"min_size": 2, "max_size": 10, "timeout": 5}]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DATABASE_POOL_SIZE": "4", "DATABASE_POOL_TIMEOUT_SECONDS": "5", "SWITCH_CONCURRENCY": "2"},
            [0, {"min_size": 2, "max_size": 4, "timeout": 5}],
        ),
        ({"DATABASE_POOL_SIZE": "0"}, [0, None]),
        ({"DATABASE_CONN_MAX_AGE": "60"}, [60, None]),
        ({"DATABASE_CONN_MAX_AGE": "60", "DATABASE_POOL_SIZE": "0"}, [60, None]),
    ],
)  # fmt: skip
def test_pool_settings(env: dict[str, str], expected: list[Any]) -> None:
    result = database_settings(DATABASE_URL=POSTGRES, **env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATABASE_POOL_SIZE": "-1"}, "DATABASE_POOL_SIZE"),
        ({"DATABASE_POOL_SIZE": "many"}, "DATABASE_POOL_SIZE"),
        ({"DATABASE_POOL_SIZE": "5", "DATABASE_CONN_MAX_AGE": "60"}, "DATABASE_POOL_SIZE"),
        ({"DATABASE_POOL_TIMEOUT_SECONDS": "0"}, "DATABASE_POOL_TIMEOUT_SECONDS"),
        ({"SWITCH_CONCURRENCY": "-1"}, "SWITCH_CONCURRENCY"),
        ({"DATABASE_POOL_SIZE": "3", "SWITCH_CONCURRENCY": "3"}, "SWITCH_CONCURRENCY"),
    ],
)
def test_a_bad_pool_setting_fails_at_start_up_naming_the_variable(env: dict[str, str], named: str) -> None:
    result = load_settings(DATABASE_URL=POSTGRES, **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.strip().splitlines()[-1]


def test_sqlite_has_no_pool() -> None:
    result = database_settings(DATABASE_URL="sqlite:////tmp/x.db")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [0, None]


# --- a switch flood on a real server ---------------------------------------------------------------

POOL_SIZE = 3
WORKERS = 2  # tests.servers.gunicorn
THREADS_PER_STUDENT = 4
SWITCHES_PER_THREAD = 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL connections and its tree gate")
def test_a_switch_flood_stays_within_the_pools_and_answers_only_the_contracts_statuses(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from tests.e2e.conftest import DEMO_PASSWORD, STUDENTS, start_live_server

    extra = {"DATABASE_POOL_SIZE": str(POOL_SIZE), "SWITCH_CONCURRENCY": "1", "REDIS_URL": ""}
    with start_live_server(tmp_path_factory, name="pool", extra_env=extra) as server:
        teacher = ("teacher", DEMO_PASSWORD)
        parent = f"/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{server.token}"
        rooms = f"{parent}/rooms"  # POST starts, DELETE stops
        assert server.request("POST", parent, auth=teacher, data={"mode": 3, "amount": 3}).status == 200
        assert server.request("POST", rooms, auth=teacher).status == 200
        listing = server.request(
            "GET", f"/ocs/v2.php/apps/spreed/api/v4/room/{server.token}/breakout-rooms", auth=teacher
        )
        targets = [room["token"] for room in listing.data]
        database = server.env["DATABASE_URL"].rsplit("/", 1)[1]
        statuses: Counter[str] = Counter()
        most_connections = 0
        lock = threading.Lock()
        done = threading.Event()

        def student(number: int, offset: int) -> None:
            for n in range(SWITCHES_PER_THREAD):
                target = targets[(number + offset + n) % len(targets)]
                answer = server.request(
                    "POST",
                    f"{parent}/switch",
                    auth=(f"student{number}", DEMO_PASSWORD),
                    data={"target": target},
                )
                key = f"{answer.status} {answer.body['ocs']['data'].get('error', '') if answer.status == 400 else ''}"
                with lock:
                    statuses[key.strip()] += 1

        def sample() -> None:
            nonlocal most_connections
            # From the maintenance database, so the sampler's own connection is not counted.
            admin = server.env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin, autocommit=True) as watcher:
                while not done.is_set():
                    row = watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database])
                    most_connections = max(most_connections, row.fetchone()[0])  # type: ignore[index]

        threads = [
            threading.Thread(target=student, args=(number, offset))
            for number in range(1, STUDENTS + 1)
            for offset in range(THREADS_PER_STUDENT)
        ]
        sampler = threading.Thread(target=sample)
        sampler.start()
        for thread in threads:
            thread.start()
        moderator = [
            server.request(method, rooms, auth=teacher).status for method in ("DELETE", "POST", "DELETE", "POST")
        ]
        for thread in threads:
            thread.join(300)
        done.set()
        sampler.join(60)
        check = (
            "import json, django; django.setup()\n"
            "from tests.reliability.invariants import tree_violations\n"
            "print(json.dumps(tree_violations()))\n"
        )
        violations = subprocess.run(
            [sys.executable, "-c", check],
            cwd=ROOT,
            env=server.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout

    assert moderator == [200, 200, 200, 200]
    assert set(statuses) <= {"200", "400 status"}, statuses
    assert sum(statuses.values()) == STUDENTS * THREADS_PER_STUDENT * SWITCHES_PER_THREAD
    assert json.loads(violations) == []
    assert 0 < most_connections <= WORKERS * POOL_SIZE, most_connections
