"""Issue 8 over real HTTP (gunicorn, 2 workers): hostile charsets, identical 404 bytes, a dead Redis."""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, start_live_server

pytestmark = pytest.mark.e2e

TEACHER = ("teacher", DEMO_PASSWORD)
V4 = "/ocs/v2.php/apps/spreed/api/v4"


def raw_get(server: LiveServer, path: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(server.url + path, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("charset", ["rot13", "base64", "no-such-charset"])
def test_a_bodyless_get_with_a_hostile_charset_and_a_query_string_answers_normally(
    live_server_e2e: LiveServer, charset: str
) -> None:
    answer = live_server_e2e.request(
        "GET", "/ocs/v2.php/cloud/capabilities?format=json", headers={"Content-Type": f"text/plain; charset={charset}"}
    )

    assert answer.status == 200
    assert answer.meta["statuscode"] == 200


@pytest.mark.parametrize("charset", ["base64", "rot13", "hex", "zlib"])
def test_an_authenticated_json_post_in_a_hostile_charset_is_415(live_server_e2e: LiveServer, charset: str) -> None:
    request = urllib.request.Request(
        f"{live_server_e2e.url}/ocs/v2.php/apps/spreed/api/v1/chat/{live_server_e2e.token}?x=1",
        data=json.dumps({"message": "hello"}).encode(),
        headers={
            "OCS-APIRequest": "true",
            "Accept": "application/json",
            "Authorization": basic_header(*TEACHER),
            "Content-Type": f"application/json; charset={charset}",
        },
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)

    assert raised.value.code == 415
    assert json.loads(raised.value.read())["ocs"]["meta"]["statuscode"] == 415


def test_every_token_404_is_the_same_bytes_and_headers_over_http(live_server_e2e: LiveServer) -> None:
    headers = {"OCS-APIRequest": "true", "Accept": "application/json", "Authorization": basic_header(*TEACHER)}
    paths = [f"{V4}/room/ZZZ", f"{V4}/room/zzzzzzzzzz", f"{V4}/room/ZZZ/participants", f"{V4}/room/zz_zz"]

    answers = [raw_get(live_server_e2e, path, headers) for path in paths]

    # Per response by design: the date, and the request id (operations).
    comparable = [
        (
            status,
            body,
            {name.lower(): value for name, value in headers.items() if name.lower() not in ("date", "x-request-id")},
        )
        for status, body, headers in answers
    ]
    for answer in comparable:
        assert answer == comparable[0]
    assert comparable[0][0] == 404
    assert "allow" not in comparable[0][2]


@pytest.fixture(scope="module")
def server_with_dead_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The fixture's start-up already asks for the capabilities: it fails if they answer 500.
    with start_live_server(
        tmp_path_factory, name="deadredis", extra_env={"REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    ) as server:
        yield server


def test_with_redis_down_the_api_keeps_answering(server_with_dead_redis: LiveServer) -> None:
    capabilities = server_with_dead_redis.request("GET", "/ocs/v2.php/cloud/capabilities")
    rooms = [server_with_dead_redis.request("GET", f"{V4}/room", auth=TEACHER) for _ in range(3)]
    missing = server_with_dead_redis.request("GET", f"{V4}/room/zzzzzzzz", auth=TEACHER)

    assert capabilities.status == 200
    assert [answer.status for answer in rooms] == [200, 200, 200]
    assert missing.status == 404
    log = server_with_dead_redis.log.read_text()
    assert "fail open" in log
