"""Every answer carries X-Request-Id (a sane incoming one is kept) and every log line written
while a request is handled carries the same id; LOG_FORMAT=json writes one JSON object a line."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from project.logs import log_formatter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the root logger writes, at INFO, through the JSON formatter of LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter("json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_answer_gets_a_fresh_request_id() -> None:
    first = Client().get("/healthz")["X-Request-Id"]
    second = Client().get("/healthz")["X-Request-Id"]

    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


def test_a_sane_incoming_request_id_is_kept(db: None) -> None:
    response = Client().get("/ocs/v2.php/cloud/capabilities", HTTP_X_REQUEST_ID="proxy-4f2a.9:1")

    assert response["X-Request-Id"] == "proxy-4f2a.9:1"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 129, "new\nline", "-leading-dash", "ü"])
def test_an_odd_incoming_request_id_is_replaced(incoming: str) -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-Id"] != incoming
    assert len(response["X-Request-Id"]) == 32


def test_the_json_log_line_of_a_request_carries_its_id(json_log: io.StringIO) -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="abc-123")

    (line,) = [line for line in lines(json_log) if line["event"] == "request finished"]
    assert response["X-Request-Id"] == "abc-123"
    assert {key: line[key] for key in ("request_id", "method", "path", "status", "level", "logger")} == {
        "request_id": "abc-123",
        "method": "GET",
        "path": "/healthz",
        "status": 200,
        "level": "info",
        "logger": "project.request",
    }
    assert line["timestamp"].endswith("Z")


def test_lines_logged_by_django_for_a_failed_request_carry_its_id(db: None, json_log: io.StringIO) -> None:
    response = Client().get("/no-such-page")

    by_logger = {line["logger"]: line for line in lines(json_log)}
    assert response.status_code == 404
    assert by_logger["django.request"]["event"] == "Not Found: /no-such-page"
    assert by_logger["django.request"]["request_id"] == response["X-Request-Id"]


def test_log_format_json_from_the_environment_writes_json_lines_with_the_request_id() -> None:
    script = (
        "import django; django.setup(); from django.test import Client; "
        "Client().get('/healthz', HTTP_X_REQUEST_ID='from-the-proxy')"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "LOG_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DJANGO_SECRET_KEY="k" * 50,
        LOG_FORMAT="json",
        DJANGO_LOG_LEVEL="INFO",
        DJANGO_DEBUG="1",  # whitenoise then serves from the finders, no collectstatic needed
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    finished = [line for line in logged if line.get("event") == "request finished"]
    assert [(line["request_id"], line["path"], line["status"]) for line in finished] == [
        ("from-the-proxy", "/healthz", 200)
    ]


def test_an_unknown_log_format_fails_at_start_up() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "LOG_"))}
    env.update(DJANGO_SETTINGS_MODULE="project.settings", DJANGO_SECRET_KEY="k" * 50, LOG_FORMAT="xml")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr.strip().splitlines()[-1]
