"""Bodies of any shape get the contract's 4xx with the right error key, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from breakout.services import lifecycle
from conversations.models import Conversation
from tests.breakout.conftest import breakout_rooms
from tests.conftest import V1, ocs_error

Client = Callable[[User], APIClient]

BODIES = [
    "not json at all",
    "[1, 2, 3]",
    "42",
    "null",
    '"a string"',
    "[" * 50_000 + "]" * 50_000,
    '{"mode": ' + "[" * 50_000 + "]" * 50_000 + "}",
    '{"mode": {"nested": 1}, "amount": [2], "attendeeMap": {"1": 0}, "message": [], "target": {}}',
    # Lone surrogates: valid JSON escapes, but not Unicode text that a database can store.
    '{"mode": "\\ud800", "amount": 2, "attendeeMap": "\\udfff", "message": "hi \\ud800", "target": "\\ud800abcd"}',
]

# (method, path suffix, caller, expected status, expected key) once the parent is a started,
# free-mode tree: the first parameter each endpoint checks is missing or malformed.
ENDPOINTS = [
    ("post", "", "owner", 400, "room"),  # already configured wins over any bad parameter
    ("post", "/broadcast", "owner", 400, "message"),
    ("post", "/attendees", "owner", 400, "attendeeMap"),
    ("post", "/switch", "student", 400, "target"),
]


@pytest.mark.parametrize("body", BODIES, ids=lambda body: body[:20])
@pytest.mark.parametrize(("method", "suffix", "who", "status", "key"), ENDPOINTS)
def test_malformed_bodies_get_the_first_parameters_error_key(
    client_for: Client,
    room: Conversation,
    owner: User,
    body: str,
    method: str,
    suffix: str,
    who: str,
    status: int,
    key: str,
) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=3, amount=2, attendee_map={})
    lifecycle.breakout_start(actor=owner, parent=room)
    client = client_for(User.objects.get(username=who))

    response = getattr(client, method)(
        f"{V1}/breakout-rooms/{room.token}{suffix}", body, content_type="application/json"
    )

    assert response.status_code == status
    assert ocs_error(response) == key


@pytest.mark.parametrize("body", BODIES, ids=lambda body: body[:20])
def test_malformed_configure_bodies_get_mode(client_for: Client, room: Conversation, owner: User, body: str) -> None:
    response = client_for(owner).post(f"{V1}/breakout-rooms/{room.token}", body, content_type="application/json")

    assert response.status_code == 400
    assert ocs_error(response) == "mode"
    assert breakout_rooms(room) == []


def test_a_body_past_the_request_size_limit_is_refused_with_413(
    client_for: Client, room: Conversation, owner: User
) -> None:
    huge = "{" + ",".join(f'"{i}":0' for i in range(1, 150_000)) + "}"

    response = client_for(owner).post(
        f"{V1}/breakout-rooms/{room.token}", {"mode": 2, "amount": 2, "attendeeMap": huge}, format="json"
    )

    assert response.status_code == 413
    assert breakout_rooms(room) == []
