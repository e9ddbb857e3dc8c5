"""A real Talk client from PyPI (Nextcloud's ``nc_py_api``), unchanged, against the live gunicorn:
the calls of the Talk surface (issue 10) that this service offers (reading a conversation with
its Talk hash, chat, reactions, deletion, favorites, notification level, read-only, polls).

The client runs in its own virtualenv (see ``clients/nc_py_api_flows.py`` for why); the test is
skipped, with the command to create it, when that virtualenv is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, ROOT, LiveServer

pytestmark = pytest.mark.e2e

CLIENT_PYTHON = Path(os.environ.get("TALK_CLIENTS_PYTHON", ROOT / ".venv-clients" / "bin" / "python"))
FLOWS = Path(__file__).parent / "clients" / "nc_py_api_flows.py"


@pytest.mark.skipif(not CLIENT_PYTHON.exists(), reason="no client virtualenv: run `make .venv-clients`")
def test_nc_py_api_runs_the_talk_surface_flows_unchanged(live_server_e2e: LiveServer) -> None:
    result = subprocess.run(
        [str(CLIENT_PYTHON), str(FLOWS), live_server_e2e.url, live_server_e2e.token, DEMO_PASSWORD],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [
        *("ok", "chat", "ok", "settings", "ok", "poll"),
        *("ok", "avatar", "ok", "conversations"),
    ]
