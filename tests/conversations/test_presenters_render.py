"""The fast paths of the hot reads give the bytes of the straightforward ones: the OCS renderer
(one encoding, ``php_empty_maps`` only when the data holds an empty map) against DRF's
``JSONRenderer`` of ``ocs_envelope``, and ``room_payload``'s inline permission rules against
``effective_permissions`` and ``is_held_in_lobby``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.permissions import effective_permissions, is_held_in_lobby
from conversations.presenters import room_payload
from project.ocs.renderers import JsonObject, OCSJSONRenderer, ocs_envelope
from tests.conftest import V1, V4
from tests.factories import ChatMessageFactory

V2_PATH = "/ocs/v2.php/apps/spreed/api/v4/room"
V1_PATH = "/ocs/v1.php/apps/spreed/api/v4/room"


def rendered(data: Any, *, path: str, status: int = 200, message: str | None = None) -> bytes:
    response = Response(data, status=status)
    if message is not None:
        response.ocs_message = message  # type: ignore[attr-defined]
    context = {"response": response, "request": RequestFactory().get(path)}
    return OCSJSONRenderer().render(data, "application/json", context)


def expected(data: Any, *, path: str, status: int = 200, message: str | None = None) -> bytes:
    body, _ = ocs_envelope(data, http_status=status, message=message, v1=path.startswith("/ocs/v1.php/"))
    return JSONRenderer().render(body)


PAYLOADS: list[Any] = [
    None,
    [],
    {},
    JsonObject(),
    {"a": 1, "b": "x", "c": None, "d": True, "e": 1.5},
    {"messageParameters": {}, "reactions": [], "nested": [{"x": {}}, {"y": {"z": {}}}], "obj": JsonObject()},
    {"reactions": JsonObject({"👍": [{"actorId": "a"}]}), "empty": JsonObject()},
    # strings holding "{}" (the fallback re-encodes), non-ASCII, quotes, control and separators
    {"message": "{} and {actor}", "name": 'Zoë "quoted" \\ tab\t line\u2028para\u2029 \x01 😀'},
    [{"message": "{}"}, {"messageParameters": []}],
    ["{}", {}, [{}], [[]], 0, -1, 10**20],
    {"": {}, "{}": "{}", "k": {"": ""}},
]


@pytest.mark.parametrize("data", PAYLOADS)
@pytest.mark.parametrize("path", [V2_PATH, V1_PATH])
@pytest.mark.parametrize(("status", "message"), [(200, None), (201, None), (404, None), (400, "name"), (401, None)])
def test_the_renderer_gives_the_bytes_of_json_renderer_of_the_envelope(
    data: Any, path: str, status: int, message: str | None
) -> None:
    assert rendered(data, path=path, status=status, message=message) == expected(
        data, path=path, status=status, message=message
    )


def test_the_renderer_does_not_change_the_data_it_renders() -> None:
    data = {"a": {}, "b": [{"c": {}}]}
    rendered(data, path=V2_PATH)
    assert data == {"a": {}, "b": [{"c": {}}]}


def test_the_room_list_and_a_chat_page_with_reactions_replies_edits_and_mentions_render_as_before(
    client_for: Callable[[User], APIClient], room: Conversation, owner: User, student: User
) -> None:
    client = client_for(owner)
    first = client.post(f"{V1}/chat/{room.token}", {"message": "Hello {} @student"}, format="json").json()
    first_id = first["ocs"]["data"]["id"]
    client.post(f"{V1}/chat/{room.token}", {"message": "Reply", "replyTo": first_id}, format="json")
    reacted = client_for(student).post(f"{V1}/reaction/{room.token}/{first_id}", {"reaction": "👍"}, format="json")
    edited = client.put(f"{V1}/chat/{room.token}/{first_id}", {"message": "Edited ünïcode"}, format="json")
    assert (reacted.status_code, edited.status_code) == (201, 200)
    ChatMessageFactory(room=room, actor_id="owner", parameters={"mention-user1": {"type": "user", "id": "student"}})
    deleted = client.post(f"{V1}/chat/{room.token}", {"message": "gone"}, format="json").json()
    assert client.delete(f"{V1}/chat/{room.token}/{deleted['ocs']['data']['id']}").status_code == 200
    for path in (f"{V4}/room", f"{V4}/room/{room.token}", f"{V1}/chat/{room.token}?lookIntoFuture=0&limit=100"):
        for user in (owner, student):
            response = client_for(user).get(path)
            assert response.status_code == 200
            assert response.content == expected(response.data, path=path)
            assert b'"messageParameters":{}' not in response.content


@pytest.mark.parametrize(
    ("participant_type", "permissions", "default_permissions", "lobby_state"),
    list(
        itertools.product(
            list(Attendee.ParticipantType),
            [0, 1, 2, 8, 10, 254, 246],
            [0, 8, 130],
            list(Conversation.Lobby),
        )
    ),
)
def test_room_payload_applies_the_permission_and_lobby_rules(
    participant_type: int, permissions: int, default_permissions: int, lobby_state: int
) -> None:
    room = Conversation(pk=1, token="abc", name="n", default_permissions=default_permissions, lobby_state=lobby_state)
    attendee = Attendee(pk=2, room=room, actor_id="u", participant_type=participant_type, permissions=permissions)
    last = ChatMessage(pk=3, room=room, message="m", parameters={})
    payload = room_payload(attendee, last_message=last, unread_messages=4)
    held = is_held_in_lobby(attendee, room)
    assert payload["permissions"] == effective_permissions(attendee, room)
    assert payload["unreadMessages"] == (0 if held else 4)
    assert (payload["lastMessage"] == []) == held
    assert payload["canStartCall"] == (not held and bool(effective_permissions(attendee, room) & 2))
    assert payload["canDeleteConversation"] == (participant_type in Attendee.MODERATOR_TYPES)
