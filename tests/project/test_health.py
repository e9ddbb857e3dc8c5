"""/healthz (the process answers, no database) and /readyz (the database answers and every
migration is applied; more checks plug in through READINESS_CHECKS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from live.health import worker_heartbeat_write

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
for path in ("/healthz", "/readyz"):
    response = client.get(path)
    print(json.dumps([path, response.status_code, response.json()]))
"""


def probe(database_url: str) -> dict[str, tuple[int, dict]]:
    """GET /healthz and /readyz in a fresh interpreter whose settings use ``database_url``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        {"DJANGO_SETTINGS_MODULE": "project.settings", "DJANGO_SECRET_KEY": "k" * 50, "DATABASE_URL": database_url}
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return {path: (status, body) for path, status, body in map(json.loads, result.stdout.splitlines())}


def test_healthz_answers_ok_without_touching_the_database() -> None:
    # No db fixture: pytest-django fails any query made here.
    response = Client().get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]


def test_readyz_answers_ok_on_a_migrated_database_with_a_live_worker(db: None) -> None:
    worker_heartbeat_write()

    response = Client().get("/readyz")

    assert (response.status_code, response.json()) == (
        200,
        {
            "status": "ok",
            "checks": {"database_reachable": "ok", "migrations_applied": "ok", "worker_heard_from": "ok"},
        },
    )


def test_the_probes_are_not_ocs_endpoints(db: None) -> None:
    response = Client().get("/healthz", HTTP_OCS_APIREQUEST="true", HTTP_ACCEPT="application/json")

    assert response.json() == {"status": "ok"}
    assert Client().post("/healthz").status_code == 405


def fails_like_a_silent_worker() -> str | None:
    return "worker not heard from"


@override_settings(
    READINESS_CHECKS=[
        "project.health.database_reachable",
        "tests.project.test_health.fails_like_a_silent_worker",
    ]
)
def test_a_configured_check_that_fails_makes_readyz_answer_503(db: None) -> None:
    response = Client().get("/readyz")

    assert (response.status_code, response.json()) == (
        503,
        {
            "status": "unavailable",
            "checks": {"database_reachable": "ok", "fails_like_a_silent_worker": "worker not heard from"},
        },
    )


def test_readyz_answers_503_when_the_database_is_down_while_healthz_stays_up() -> None:
    # Nothing listens on port 1: every connection attempt is refused at the socket.
    answers = probe("postgres://postgres@127.0.0.1:1/nowhere")

    assert answers["/healthz"] == (200, {"status": "ok"})
    assert answers["/readyz"] == (
        503,
        {
            "status": "unavailable",
            "checks": {
                "database_reachable": "database unreachable",
                "migrations_applied": "skipped",
                "worker_heard_from": "skipped",
            },
        },
    )


def test_readyz_answers_503_while_migrations_are_missing(tmp_path: Path) -> None:
    answers = probe(f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    status, body = answers["/readyz"]
    assert (status, body["status"], body["checks"]["database_reachable"]) == (503, "unavailable", "ok")
    assert body["checks"]["migrations_applied"].endswith("migration(s) not applied")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_answer_outside_the_ocs_tree_only(db: None, path: str) -> None:
    assert Client().get(f"/ocs/v2.php{path}").status_code == 404
