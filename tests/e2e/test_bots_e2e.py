"""Webhook bots end to end (issue 13): gunicorn, the worker (``manage.py live_worker``) and a bot
built with nc_py_api's ``talk_bot`` (``clients/talk_bot.py``) on a loopback port. The bot is
installed with ``manage.py bot install``, set up by the teacher through Talk's moderator endpoint
(with nc_py_api's Talk client, which checks ``bots-v1``), receives a student's chat message from
the worker, verifies its signature and answers into the chat; a worker killed with SIGKILL in the
middle of a delivery delivers it after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, ROOT, LiveServer, start_live_server
from tests.servers import manage as _manage

pytestmark = pytest.mark.e2e

CLIENT_PYTHON = Path(os.environ.get("TALK_CLIENTS_PYTHON", ROOT / ".venv-clients" / "bin" / "python"))
BOT = Path(__file__).parent / "clients" / "talk_bot.py"
SECRET = "e2e-bot-secret-" + "0123456789" * 4
CHAT = "/ocs/v2.php/apps/spreed/api/v1/chat/{token}?lookIntoFuture=0&limit=20"
needs_clients = pytest.mark.skipif(not CLIENT_PYTHON.exists(), reason="no client virtualenv: run `make .venv-clients`")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_live_server(tmp_path_factory, name="bots") as live:
        yield live


def _free_bot_port(start: int) -> int:
    import socket

    for port in range(start, start + 20):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for the bot")


def _bot(port: int, journal: Path, secret: str, *extra: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([str(CLIENT_PYTHON), str(BOT), str(port), secret, str(journal), *extra])
    _wait(lambda: "listening" in _lines(journal), 30)
    return process


def _worker(server: LiveServer, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **server.env,
        "BOTS_BACKEND_URL": server.url,
        "BOTS_DELIVERY_INTERVAL_SECONDS": "1",
        "BOTS_DELIVERY_TIMEOUT_SECONDS": "2",
        "TASKS_CLAIM_TIMEOUT_SECONDS": "3",
    }
    command = [sys.executable, "manage.py", "live_worker", "--no-reload", "--interval", "0.1"]
    with log.open("a") as out:
        return subprocess.Popen(
            [*command, "--housekeeping-interval", "0.5"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _lines(journal: Path) -> list[str]:
    return journal.read_text().splitlines() if journal.exists() else []


def _wait(predicate: Any, seconds: float, *logs: Path) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            shown = "\n".join(f"--- {log}:\n{log.read_text() if log.exists() else ''}" for log in logs)
            raise AssertionError(f"gave up waiting\n{shown}")
        time.sleep(0.2)


def _install(server: LiveServer, name: str, port: int, secret: str) -> int:
    out = _manage(server.env, "bot", "install", name, secret, f"http://127.0.0.1:{port}/webhook", "Answers")
    return int(out.split("id ")[1].rstrip(")\n"))


def _enable_with_nc_py_api(server: LiveServer, bot_id: int) -> None:
    code = (
        "import sys\n"
        "from nc_py_api import Nextcloud\n"
        "nc = Nextcloud(nextcloud_url=sys.argv[1], nc_auth_user='teacher', nc_auth_pass=sys.argv[2])\n"
        "nc.talk.enable_bot(sys.argv[3], int(sys.argv[4]))\n"
        "print(*sorted((b.bot_id, b.state) for b in nc.talk.conversation_list_bots(sys.argv[3])))\n"
    )
    result = subprocess.run(
        [str(CLIENT_PYTHON), "-c", code, server.url, DEMO_PASSWORD, server.token, str(bot_id)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"({bot_id}, 1)" in result.stdout


def _answers(server: LiveServer, question: str) -> list[dict[str, Any]]:
    chat = server.request("GET", CHAT.format(token=server.token), auth=("teacher", DEMO_PASSWORD)).data
    return [m for m in chat if m["actorType"] == "bots" and m["message"] == f"echo: {question}"]


def _ask(server: LiveServer, question: str) -> int:
    posted = server.request(
        "POST",
        f"/ocs/v2.php/apps/spreed/api/v1/chat/{server.token}",
        auth=("student1", DEMO_PASSWORD),
        data={"message": question},
    )
    assert posted.status == 201
    return posted.data["id"]


@needs_clients
def test_a_talk_bot_receives_a_signed_message_and_answers_into_the_chat(server: LiveServer, tmp_path: Path) -> None:
    journal = tmp_path / "bot.journal"
    port = _free_bot_port(18320)
    bot = _bot(port, journal, SECRET)
    worker = _worker(server, tmp_path / "worker.log")
    try:
        bot_id = _install(server, "Echo", port, SECRET)
        _enable_with_nc_py_api(server, bot_id)
        question_id = _ask(server, "What is 6 x 7?")

        _wait(lambda: _answers(server, "What is 6 x 7?"), 60, journal, tmp_path / "worker.log")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        bot.terminate()
        bot.wait(timeout=10)

    (answer,) = _answers(server, "What is 6 x 7?")
    assert answer["actorId"].startswith("bot-") and answer["actorDisplayName"] == "Echo (Bot)"
    assert answer["parent"]["id"] == question_id
    reactions = server.request(
        "GET", f"/ocs/v2.php/apps/spreed/api/v1/reaction/{server.token}/{question_id}", auth=("teacher", DEMO_PASSWORD)
    ).data
    assert [r["actorType"] for r in reactions["👍"]] == ["bots"]
    lines = _lines(journal)
    assert lines[1].startswith("Join 1 ")  # the set-up, verified
    assert any(line.startswith("Create 1 ") for line in lines)
    assert "answered 201 201" in lines
    listed = _manage(server.env, "bot", "list", "--output", "json")
    assert '"failing": false' in listed


@needs_clients
def test_a_worker_killed_mid_delivery_delivers_after_a_restart(server: LiveServer, tmp_path: Path) -> None:
    journal = tmp_path / "bot.journal"
    port = _free_bot_port(18340)
    bot = _bot(port, journal, SECRET[::-1], "--hang-first")
    log = tmp_path / "worker.log"
    worker = _worker(server, log)
    restarted = None
    try:
        bot_id = _install(server, "Slow", port, SECRET[::-1])
        _manage(server.env, "bot", "setup", str(bot_id), server.token)
        _ask(server, "Are you there?")
        _wait(lambda: "hanging" in _lines(journal), 60, journal, log)  # the worker waits for the bot's answer
        worker.send_signal(signal.SIGKILL)
        worker.wait()

        restarted = _worker(server, log)
        _wait(lambda: _answers(server, "Are you there?"), 90, journal, log)
    finally:
        for process in (worker, restarted):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        bot.terminate()
        bot.wait(timeout=10)

    creates = [line.split()[2] for line in _lines(journal) if line.startswith("Create ")]
    assert len(creates) == 2 and creates[0] == creates[1]  # sent again, with the same delivery id
