"""Live updates across hosts: two servers (each gunicorn with 2 uvicorn workers) on different
ports share one database; a message posted through one reaches a long poll and an event stream
held on the other within a second. Once with the database's own fan-out (PostgreSQL LISTEN/NOTIFY,
or the outbox poll on SQLite) and once through Redis pub/sub (``REDIS_URL``)."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, start_live_server

pytestmark = pytest.mark.e2e

STUDENT = ("student1", DEMO_PASSWORD)
TEACHER = ("teacher", DEMO_PASSWORD)
V1 = "/ocs/v2.php/apps/spreed/api/v1"
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module", params=["database", "redis"])
def two_hosts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    extra = {"REDIS_URL": REDIS_URL} if request.param == "redis" else {}
    with (
        start_live_server(tmp_path_factory, name=f"live_a_{request.param}", extra_env=extra) as first,
        start_live_server(tmp_path_factory, name=f"live_b_{request.param}", share_database_of=first) as second,
    ):
        yield first, second


def basic(auth: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()


class Stream(threading.Thread):
    """Reads the event stream of ``server`` in the background, timing each event's arrival."""

    def __init__(self, server: LiveServer, auth: tuple[str, str]) -> None:
        super().__init__(daemon=True)
        host, port = server.url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=20)
        self.auth = auth
        self.connected = threading.Event()
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.status = 0

    def run(self) -> None:
        self.connection.request("GET", "/api/v1/events", headers={"Authorization": basic(self.auth)})
        response = self.connection.getresponse()
        self.status = response.status
        self.connected.set()
        try:
            while line := response.readline():
                if line.startswith(b"data: "):
                    self.events.append((time.monotonic(), json.loads(line[6:])))
        except (OSError, ValueError, AttributeError):
            return  # closed by the test

    def close(self) -> None:
        self.connection.close()


def test_a_message_posted_on_one_host_reaches_a_long_poll_and_a_stream_on_the_other_within_a_second(
    two_hosts: tuple[LiveServer, LiveServer],
) -> None:
    first, second = two_hosts
    token = first.token
    newest = second.request("GET", f"{V1}/chat/{token}", auth=TEACHER, headers={}).data
    last_known = max((message["id"] for message in newest), default=0)
    stream = Stream(second, TEACHER)
    stream.start()
    assert stream.connected.wait(10) and stream.status == 200
    polled: dict[str, Any] = {}

    def long_poll() -> None:
        answer = second.request(
            "GET",
            f"{V1}/chat/{token}?lookIntoFuture=1&lastKnownMessageId={last_known}&timeout=20",
            auth=TEACHER,
        )
        polled.update(at=time.monotonic(), answer=answer)

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(1.0)  # both are waiting now

    posted = first.request("POST", f"{V1}/chat/{token}", auth=STUDENT, data={"message": "across hosts"})
    # The answer comes right after the commit; checking the password may take a while before it.
    posted_at = time.monotonic()
    poller.join(15)
    deadline = time.monotonic() + 5
    while not stream.events and time.monotonic() < deadline:
        time.sleep(0.05)
    stream.close()

    assert posted.status == 201
    assert polled["answer"].status == 200
    assert [m["id"] for m in polled["answer"].data] == [posted.data["id"]]
    assert polled["at"] - posted_at < 1.0
    (arrived, event), *_ = stream.events
    assert event["type"] == "chat.message" and event["messageId"] == posted.data["id"]
    assert event["token"] == token and event["actorId"] == "student1"
    assert arrived - posted_at < 1.0


def test_a_long_poll_answers_304_after_its_timeout_over_http(two_hosts: tuple[LiveServer, LiveServer]) -> None:
    _, second = two_hosts
    answer = second.request(
        "GET", f"{V1}/chat/{second.token}?lookIntoFuture=1&lastKnownMessageId=999999&timeout=1", auth=TEACHER
    )

    assert answer.status == 304
    assert answer.body is None
