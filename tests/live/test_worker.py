"""The background worker as operators run it (``manage.py live_worker`` processes on a database
of their own): a job killed with SIGKILL half-way runs again, two workers never run one job twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.conftest import postgres_url_of
from tests.servers import ROOT, manage, own_database, service_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with own_database(postgres_url_of(settings.DATABASES["default"]), "jobs", tmp_path) as url:
        env = service_env(url, secret_key="jobs-secret-key-" + "x" * 40, TASKS_CLAIM_TIMEOUT_SECONDS="3")
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        yield env


def enqueue(env: dict[str, str], journal: Path, keys: list[str], seconds: float) -> None:
    code = (
        "from tests.live.jobs import journal_append\n"
        f"for key in {keys!r}: journal_append.enqueue({str(journal)!r}, key, {seconds})"
    )
    manage(env, "shell", "--no-imports", "-c", code)


def worker(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "manage.py", "live_worker", "--no-reload", "--interval", "0.1", "--verbosity", "0"]
    return subprocess.Popen(
        [*command, "--housekeeping-interval", "0.5", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(predicate: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.1)


def lines(journal: Path) -> list[str]:
    return journal.read_text().splitlines() if journal.exists() else []


def test_a_job_killed_half_way_runs_again_after_a_restart(worker_env: dict[str, str], tmp_path: Path) -> None:
    journal = tmp_path / "journal.txt"
    enqueue(worker_env, journal, ["lesson"], seconds=2.0)
    first = worker(worker_env)
    try:
        wait_for(lambda: "start lesson" in lines(journal))
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert lines(journal) == ["start lesson"]  # killed half-way

    restarted = worker(worker_env)
    try:
        wait_for(lambda: "done lesson" in lines(journal))
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)

    assert lines(journal) == ["start lesson", "start lesson", "done lesson"]


def test_two_workers_never_run_the_same_job_twice(worker_env: dict[str, str], tmp_path: Path) -> None:
    journal = tmp_path / "journal.txt"
    keys = [f"job{i}" for i in range(40)]
    enqueue(worker_env, journal, keys, seconds=0.05)

    workers = [worker(worker_env, "--batch", "--no-startup-delay") for _ in range(2)]
    for process in workers:
        assert process.wait(timeout=120) == 0

    done = Counter(line.split()[1] for line in lines(journal) if line.startswith("done"))
    started = Counter(line.split()[1] for line in lines(journal) if line.startswith("start"))
    assert done == Counter(keys) == started
