"""A second real Talk client from PyPI, ``nextcloud-talk-core`` (httpx, form bodies), unchanged,
against the live gunicorn: editing and deleting, mention suggestions, read markers and unread
counts, reactions (removed with a form body on DELETE), reminders and attendee permissions.

The client runs in the clients' virtualenv (``make .venv-clients``, see
``clients/nc_py_api_flows.py`` for why); the test is skipped, with that command, without it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, LiveServer
from tests.e2e.test_nc_py_api import CLIENT_PYTHON

pytestmark = pytest.mark.e2e

FLOWS = Path(__file__).parent / "clients" / "talk_core_flows.py"


def _client_installed() -> bool:
    if not CLIENT_PYTHON.exists():
        return False
    found = subprocess.run([str(CLIENT_PYTHON), "-c", "import nextcloud_talk_core"], capture_output=True, check=False)
    return found.returncode == 0


@pytest.mark.skipif(not _client_installed(), reason="no nextcloud-talk-core: run `make .venv-clients`")
def test_nextcloud_talk_core_runs_the_talk_surface_flows_unchanged(live_server_e2e: LiveServer) -> None:
    result = subprocess.run(
        [str(CLIENT_PYTHON), str(FLOWS), live_server_e2e.url, live_server_e2e.token, DEMO_PASSWORD],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["ok", "chat", "ok", "reactions", "ok", "reminders", "ok", "participants"]
