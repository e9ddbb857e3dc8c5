"""Fuzzing every operation of the live OpenAPI schema over real HTTP: never a 500, always the envelope.

schemathesis generates valid and invalid parameters (query, JSON or form body) from the schema
served by a real gunicorn (2 workers, brute-force protection off, a database of its own). The
caller is the moderator of seeded conversations; the ``token`` path parameter (and the ``target``
of switch) is often replaced by a real token of a configured, started parent or one of its
breakout rooms, so the endpoint logic is reached and not only the 404 of an unknown token.
A successful DELETE may have removed a room or the caller: the rooms are then seeded again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, start_live_server

pytestmark = pytest.mark.e2e

TEACHER = ("teacher", DEMO_PASSWORD)
STUDENT = ("student1", DEMO_PASSWORD)
V4 = "/ocs/v2.php/apps/spreed/api/v4"
V1 = "/ocs/v2.php/apps/spreed/api/v1"
# Examples per operation (FUZZ_MAX_EXAMPLES raises it for a longer hunt).
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "20"))
# The suite (and so CI) replays the same examples every run, so that a red build always points
# at a change, never at a lucky draw. FUZZ_RANDOM=1 draws new examples for a hunt.
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "0") != "1"
REAL = 7  # of 10 draws use real tokens and attendee ids
# Values the schema-driven generation rarely or never draws (hypothesis never draws surrogates):
# sent in place of a field of a JSON body.
HOSTILE_VALUES: list[Any] = [
    "\ud800",
    "a\udfffb",
    "\x00",
    "x\x00y",
    " \t\n",
    "\u202e\ufeff",
    "9" * 40,
    10**30,
    -(2**63),
]


# A stream never ends, so it cannot be fuzzed as a request/answer; tests/live covers it.
STREAMS = {"/api/v1/events"}


def _in_process_operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every documented operation, from the schema generated in this process."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return sorted(
        (method.upper(), path) for path, methods in paths.items() for method in methods if path not in STREAMS
    )


OPERATIONS = _in_process_operations()


class World:
    """Seeded conversations of the teacher on the fuzzed server: real tokens and attendee ids."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.tokens: list[str] = []
        self.breakout_tokens: list[str] = []
        self.attendee_ids: list[int] = []
        self.message_ids: list[int] = []
        self.poll_ids: list[int] = []
        self.template_ids: list[int] = []
        self.seeds = 0

    def seed(self) -> None:
        """A started free-mode parent with two breakout rooms and three students, a conversation
        without breakout rooms (configure reaches its parameter checks) and the demo class."""
        self.seeds += 1
        parent, plain = (self._create(f"Fuzz {self.seeds}"), self._create(f"Fuzz plain {self.seeds}"))
        for token, n in ((parent, 1), (parent, 2), (parent, 3), (plain, 1)):
            added = self.server.request(
                "POST", f"{V4}/room/{token}/participants", auth=TEACHER, data={"newParticipant": f"student{n}"}
            )
            assert added.status == 200, added.body
        configured = self.server.request(
            "POST", f"{V1}/breakout-rooms/{parent}", auth=TEACHER, data={"mode": 3, "amount": 2}
        )
        assert configured.status == 200, configured.body
        started = self.server.request("POST", f"{V1}/breakout-rooms/{parent}/rooms", auth=TEACHER)
        assert started.status == 200, started.body
        self.breakout_tokens = [room["token"] for room in configured.data[:-1]]
        self.tokens = [parent, *self.breakout_tokens, plain, self.server.token]
        participants = self.server.request("GET", f"{V4}/room/{parent}/participants", auth=TEACHER)
        self.attendee_ids = [participant["attendeeId"] for participant in participants.data]
        # A message and a poll, so that the chat, reaction, reminder and poll routes reach their logic.
        # In the first token, the one drawn most often.
        message = self.server.request("POST", f"{V1}/chat/{parent}", auth=TEACHER, data={"message": "Fuzz"})
        poll = self.server.request(
            "POST", f"{V1}/poll/{parent}", auth=TEACHER, json_body={"question": "Fuzz?", "options": ["a", "b"]}
        )
        assert (message.status, poll.status) == (201, 201), (message.body, poll.body)
        self.message_ids, self.poll_ids = [message.data["id"]], [poll.data["id"]]
        reminder = self.server.request(
            "POST", f"{V1}/chat/{parent}/{message.data['id']}/reminder", auth=TEACHER, data={"timestamp": 2**31}
        )
        assert reminder.status == 201, reminder.body
        # A template of the teacher's (apply and delete reach their logic).
        template = self.server.request(
            "POST", f"{V1}/breakout-rooms/{parent}/templates", auth=TEACHER, data={"name": f"Fuzz {self.seeds}"}
        )
        assert template.status == 201, template.body
        self.template_ids = [template.data["id"]]

    def _create(self, name: str) -> str:
        created = self.server.request("POST", f"{V4}/room", auth=TEACHER, data={"roomType": 2, "roomName": name})
        assert created.status == 201, created.body
        return created.data["token"]


@pytest.fixture(scope="module")
def live_server_fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_live_server(tmp_path_factory, name="fuzz", extra_env={"BRUTEFORCE_PROTECTION": "0"}) as server:
        yield server


@pytest.fixture(scope="module")
def world(live_server_fuzz: LiveServer) -> World:
    world = World(live_server_fuzz)
    world.seed()
    return world


@pytest.fixture(scope="module")
def live_schema(live_server_fuzz: LiveServer) -> Any:
    return schemathesis.openapi.from_url(f"{live_server_fuzz.url}/api/schema/?format=json")


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_the_fuzzed_schema_is_the_one_the_server_serves(live_schema: Any) -> None:
    served = sorted(
        (method.upper(), path)
        for path, methods in live_schema.raw_schema["paths"].items()
        for method in methods
        if path not in STREAMS
    )

    assert served == OPERATIONS
    assert len(OPERATIONS) > 30


def _assert_ocs_answer(response: schemathesis.Response, label: str) -> None:
    """HTTP status below 500; the OCS envelope as JSON (a 304 has no body)."""
    text = response.content[:2000].decode(errors="replace")
    assert response.status_code < 500, f"{label}: HTTP {response.status_code}\n{text}"
    if response.status_code == 304:
        assert response.content == b"", label
        return
    if response.status_code == 200 and response.headers["content-type"][0].startswith("image/svg+xml"):
        assert "/avatar" in label and response.content.startswith(b"<svg"), label  # a picture, as in Talk
        return
    assert response.headers["content-type"][0].startswith("application/json"), f"{label}: {text}"
    body = json.loads(response.content)
    assert set(body) == {"ocs"}, label
    assert set(body["ocs"]) == {"meta", "data"}, label
    assert {"status", "statuscode", "message"} <= set(body["ocs"]["meta"]), label


def _use_real_values(case: Any, world: World, data: st.DataObject) -> None:
    """Replace generated tokens, targets, attendee ids and attendee maps by real ones (in place)."""
    if "token" in (case.path_parameters or {}):
        case.path_parameters["token"] = data.draw(st.sampled_from(world.tokens))
    for name, values in (
        ("message_id", world.message_ids),
        ("poll_id", world.poll_ids),
        ("template_id", world.template_ids),
    ):
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = data.draw(st.sampled_from(values))
    for container in (case.body, case.query):
        if not isinstance(container, dict):
            continue
        if "target" in container:
            container["target"] = data.draw(st.sampled_from(world.breakout_tokens))
        if "attendeeId" in container:
            container["attendeeId"] = data.draw(st.sampled_from(world.attendee_ids))
        if "attendeeMap" in container:
            attendee_map = data.draw(
                st.dictionaries(st.sampled_from(world.attendee_ids), st.integers(min_value=-1, max_value=3))
            )
            container["attendeeMap"] = json.dumps({str(key): value for key, value in attendee_map.items()})


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_generated_request_gets_a_500_or_leaves_the_ocs_envelope(
    method: str, path: str, live_schema: Any, world: World, http: requests.Session
) -> None:
    operation = live_schema[path][method]
    modes = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    if operation.path_parameters or operation.query or operation.body:
        modes.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    statuses: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(modes), real=st.integers(min_value=0, max_value=9), data=st.data())
    def fuzz(case: Any, real: int, data: st.DataObject) -> None:
        if real < REAL:
            _use_real_values(case, world, data)
        if (
            case.media_type == "application/json"
            and isinstance(case.body, dict)
            and case.body
            and data.draw(st.booleans())
        ):
            case.body[data.draw(st.sampled_from(sorted(case.body)))] = data.draw(st.sampled_from(HOSTILE_VALUES))
        # A long poll would wait up to 30 s for a message; the fuzz wants the answer at once.
        chat_read = method == "GET" and path.endswith("/chat/{token}") and isinstance(case.query, dict)
        if chat_read and not isinstance(case.query.get("timeout"), str):
            case.query["timeout"] = 0
        response = case.call(
            base_url=world.server.url,
            session=http,
            headers={"OCS-APIRequest": "true", "Accept": "application/json"},
            auth=data.draw(st.sampled_from([TEACHER, TEACHER, TEACHER, STUDENT])),
            timeout=30,
        )
        statuses.append(response.status_code)
        _assert_ocs_answer(
            response, f"{case.method} {case.formatted_path} {case.query} {case.body!r} {case.media_type}"
        )
        if method == "DELETE" and response.status_code < 300:
            world.seed()

    fuzz()

    # Real tokens reach the endpoint logic: not every answer is the 404 of an unknown room. Deleting
    # a reaction nobody made is Talk's 404 too, and the drawn emoji are random: that route may
    # legitimately answer 404 to every draw.
    if (method, path) != ("DELETE", "/ocs/v2.php/apps/spreed/api/v1/reaction/{token}/{message_id}"):
        assert [status for status in statuses if status != 404], statuses
