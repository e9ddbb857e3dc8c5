"""/readyz includes "a background worker was heard from recently" (the live_worker's heartbeat),
skippable with READINESS_WORKER=false; the waiting-clients gauge counts this process's waiters."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from live import hub
from live.health import worker_heartbeat_write
from live.management.commands.live_worker import housekeeping
from live.models import WorkerHeartbeat

ROOT = Path(__file__).resolve().parents[2]


def readyz() -> tuple[int, dict]:
    response = Client().get("/readyz")
    return response.status_code, response.json()


def test_readyz_fails_before_any_worker_was_heard_from(db: None) -> None:
    status, body = readyz()

    assert status == 503
    assert body["checks"]["worker_heard_from"] == "no worker heard from yet (manage.py live_worker)"
    assert body["checks"]["database_reachable"] == "ok"


@override_settings(LIVE_WORKER_STALE_SECONDS=30)
def test_readyz_fails_when_the_heartbeat_is_older_than_the_threshold(db: None) -> None:
    worker_heartbeat_write(now=timezone.now() - timedelta(seconds=31))

    status, body = readyz()

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["worker_heard_from"].startswith("worker last heard from 3")
    assert body["checks"]["worker_heard_from"].endswith("s ago (limit 30 s)")

    worker_heartbeat_write(now=timezone.now() - timedelta(seconds=20))
    assert readyz()[0] == 200


def test_the_worker_loop_writes_the_heartbeat(transactional_db: None) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=housekeeping, args=(stop, 0.05), daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if WorkerHeartbeat.objects.exists():
                break
            stop.wait(0.05)
        first = WorkerHeartbeat.objects.get().beat_at
        for _ in range(200):  # and keeps writing it
            if WorkerHeartbeat.objects.get().beat_at > first:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)

    beat = WorkerHeartbeat.objects.get()
    assert beat.beat_at > first
    assert beat.worker.endswith(f":{os.getpid()}")
    assert readyz()[0] == 200


def test_the_worker_check_can_be_turned_off_for_deployments_without_a_worker(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_SECRET_KEY": "k" * 50,
            "DATABASE_URL": f"sqlite:///{database}",
        }
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    probe = (
        "import json, django; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); print(json.dumps([r.status_code, r.json()]))"
    )

    def answer(**extra: str) -> list:
        result = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(result.stdout.splitlines()[-1])

    assert answer()[0] == 503  # no worker ran on this database
    assert answer(READINESS_WORKER="false") == [
        200,
        {"status": "ok", "checks": {"database_reachable": "ok", "migrations_applied": "ok"}},
    ]


# --- the waiting-clients gauge ----------------------------------------------------------------

TOKEN = "scrape-token-for-worker-tests"


@pytest.fixture
def waiting_hub() -> Iterator[hub.Hub]:
    """A hub of another event loop of this process, as the ASGI tier keeps one per loop."""
    loop = asyncio.new_event_loop()
    fake = hub.Hub(loop)
    hub._hubs[loop] = fake
    yield fake
    del hub._hubs[loop]
    loop.close()


@override_settings(METRICS_TOKEN=TOKEN)
def test_waiting_clients_gauge_counts_the_subscriptions_of_this_process(db: None, waiting_hub: hub.Hub) -> None:
    waiting_hub.count = 3

    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    assert samples["breakout_waiting_clients"] == 3 + sum(
        h.count for h in list(hub._hubs.values()) if h is not waiting_hub
    )
    assert hub.waiting_clients() >= 3
