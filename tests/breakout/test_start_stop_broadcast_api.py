"""Start, stop (contract 1.3, 1.4, 4.2) and broadcast (1.5, 4.8, decision 11)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import AppConfigValue, User
from conversations.models import ChatMessage, Conversation
from tests.breakout.conftest import breakout_rooms
from tests.conftest import V1, V4, ocs_data, ocs_error
from tests.helpers import system_messages

Client = Callable[[User], APIClient]


def start(client: APIClient, token: str) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}/rooms")


def stop(client: APIClient, token: str) -> Any:
    return client.delete(f"{V1}/breakout-rooms/{token}/rooms")


def broadcast(client: APIClient, token: str, **params: Any) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}/broadcast", params, format="json")


def lobbies(parent: Conversation) -> list[int]:
    return [r.lobby_state for r in breakout_rooms(parent)]


@pytest.mark.parametrize("call", [start, stop, lambda c, t: broadcast(c, t, message="hi")])
def test_start_stop_and_broadcast_require_a_login(anonymous_client: APIClient, room: Conversation, call: Any) -> None:
    assert call(anonymous_client, room.token).status_code == 401


@pytest.mark.parametrize("call", [start, stop, lambda c, t: broadcast(c, t, message="hi")])
def test_start_stop_and_broadcast_answer_outsiders_like_unknown_tokens(
    client_for: Client, room: Conversation, outsider: User, configured: Callable[..., list], call: Any
) -> None:
    configured()
    response = call(client_for(outsider), room.token)

    assert response.status_code == 404
    assert response.json() == call(client_for(outsider), "unknowntoken").json()
    assert lobbies(room) == [1, 1]


@pytest.mark.parametrize("call", [start, stop, lambda c, t: broadcast(c, t, message="hi")])
def test_start_stop_and_broadcast_refuse_students(
    client_for: Client, room: Conversation, student: User, configured: Callable[..., list], call: Any
) -> None:
    configured()

    assert call(client_for(student), room.token).status_code == 403
    assert lobbies(room) == [1, 1]
    assert not ChatMessage.objects.filter(message_type="comment").exists()


@pytest.mark.parametrize("call", [start, stop, lambda c, t: broadcast(c, t, message="hi")])
def test_start_stop_and_broadcast_need_a_configured_parent(
    client_for: Client, room: Conversation, owner: User, call: Any
) -> None:
    response = call(client_for(owner), room.token)

    assert response.status_code == 400
    assert ocs_error(response) == "mode"
    room.refresh_from_db()
    assert room.breakout_room_status == 0


def test_start_opens_every_room_and_marks_the_parent_started(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=1, amount=2)

    response = start(client_for(owner), room.token)

    assert response.status_code == 200
    room.refresh_from_db()
    assert (room.breakout_room_status, room.lobby_state) == (1, 0)
    assert lobbies(room) == [0, 0]
    assert [system_messages(r)[-1] for r in rooms] == ["breakout_rooms_started"] * 2
    assert ChatMessage.objects.filter(room=room).count() == 0
    data = ocs_data(response)
    assert [r["token"] for r in data] == [r.token for r in rooms] + [room.token]
    assert [r["lobbyState"] for r in data] == [0, 0, 0]
    assert data[-1]["breakoutRoomStatus"] == 1


def test_start_is_idempotent_and_posts_no_second_message(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=1, amount=2)
    start(client_for(owner), room.token)

    response = start(client_for(owner), room.token)

    assert response.status_code == 200
    assert [system_messages(r).count("breakout_rooms_started") for r in rooms] == [1, 1]


def test_start_keeps_assistance_requests_and_ignores_the_config_switch(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured()
    AppConfigValue.objects.create(key="breakout_rooms", value="no")
    Conversation.objects.filter(pk=rooms[0].pk).update(lobby_state=0, breakout_room_status=2)

    assert start(client_for(owner), room.token).status_code == 200
    assert [r.breakout_room_status for r in breakout_rooms(room)] == [2, 0]
    # Only the room whose lobby changed gets the message.
    assert [system_messages(r).count("breakout_rooms_started") for r in rooms] == [0, 1]


def test_stop_closes_every_room_clears_assistance_and_marks_the_parent_stopped(
    client_for: Client, room: Conversation, moderator: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=1, amount=2)
    start(client_for(moderator), room.token)
    Conversation.objects.filter(pk=rooms[1].pk).update(breakout_room_status=2)

    response = stop(client_for(moderator), room.token)

    assert response.status_code == 200
    room.refresh_from_db()
    assert room.breakout_room_status == 0
    assert lobbies(room) == [1, 1]
    assert [r.breakout_room_status for r in breakout_rooms(room)] == [0, 0]
    assert system_messages(rooms[0])[0] == "conversation_created"
    assert [system_messages(r)[-2:] for r in rooms] == [["breakout_rooms_started", "breakout_rooms_stopped"]] * 2
    data = ocs_data(response)
    assert [(r["lobbyState"], r["breakoutRoomStatus"]) for r in data] == [(1, 0), (1, 0), (0, 0)]


def test_stop_when_already_stopped_posts_nothing(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured()

    assert stop(client_for(owner), room.token).status_code == 200
    assert ["breakout_rooms_stopped" in system_messages(r) for r in rooms] == [False, False]


def test_students_see_the_started_room_open_and_the_stopped_room_behind_the_lobby(
    client_for: Client, room: Conversation, owner: User, student: User, configured: Callable[..., list]
) -> None:
    configured(mode=1, amount=1)
    assert [r["lobbyState"] for r in ocs_data(client_for(student).get(f"{V4}/room"))] == [0, 1]
    start(client_for(owner), room.token)
    assert [r["lobbyState"] for r in ocs_data(client_for(student).get(f"{V4}/room"))] == [0, 0]


# -- broadcast ----------------------------------------------------------------------------------


def test_broadcast_posts_the_trimmed_message_into_every_room_with_one_timestamp(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=1, amount=3)

    response = broadcast(client_for(owner), room.token, message="  \t Hello rooms\n\x00")

    assert response.status_code == 201
    assert response.json()["ocs"]["meta"]["statuscode"] == 201
    posted = list(ChatMessage.objects.filter(message_type="comment").order_by("id"))
    assert [m.room_id for m in posted] == [r.pk for r in rooms]
    assert {(m.message, m.actor_id, m.actor_display_name) for m in posted} == {("Hello rooms", "owner", "Owner Person")}
    assert len({m.created_at for m in posted}) == 1
    assert not ChatMessage.objects.filter(room=room).exists()
    data = ocs_data(response)
    assert [r["token"] for r in data] == [r.token for r in rooms] + [room.token]
    for payload in data[:-1]:
        assert payload["lastMessage"]["message"] == "Hello rooms"
        assert payload["lastMessage"]["messageParameters"] == []
        assert payload["lastMessage"]["messageType"] == "comment"


def test_broadcast_works_whether_started_or_stopped_and_when_disabled(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured(mode=3, amount=2)
    AppConfigValue.objects.create(key="breakout_rooms", value="no")

    assert broadcast(client_for(owner), room.token, message="stopped").status_code == 201
    start(client_for(owner), room.token)
    assert broadcast(client_for(owner), room.token, message="started").status_code == 201
    assert ChatMessage.objects.filter(message_type="comment").count() == 4


@pytest.mark.parametrize("params", [{}, {"message": ""}, {"message": " \n\t\x00 "}, {"message": 5}, {"message": None}])
def test_broadcast_refuses_a_missing_or_empty_message(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list], params: dict
) -> None:
    configured()

    response = broadcast(client_for(owner), room.token, **params)

    assert response.status_code == 400
    assert ocs_error(response) == "message"
    assert not ChatMessage.objects.filter(message_type="comment").exists()


def test_broadcast_trims_nul_at_the_ends_and_refuses_it_inside(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured()

    inside = broadcast(client_for(owner), room.token, message="hello\x00world")
    ends = broadcast(client_for(owner), room.token, message="\x00hello\x00")

    assert (inside.status_code, ocs_error(inside)) == (400, "message")
    assert ends.status_code == 201
    assert set(ChatMessage.objects.filter(message_type="comment").values_list("message", flat=True)) == {"hello"}


def test_broadcast_refuses_more_than_32000_code_points_with_413_and_posts_nothing(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured()

    response = broadcast(client_for(owner), room.token, message="é" * 32001)

    assert response.status_code == 413
    assert ocs_error(response) == "message"
    assert not ChatMessage.objects.filter(message_type="comment").exists()


def test_broadcast_accepts_exactly_32000_code_points_after_trimming(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured(amount=1)

    response = broadcast(client_for(owner), room.token, message="  " + "😀" * 32000 + "  ")

    assert response.status_code == 201
    assert ChatMessage.objects.get(message_type="comment").message == "😀" * 32000


def test_broadcast_checks_the_mode_before_the_message(client_for: Client, room: Conversation, owner: User) -> None:
    assert ocs_error(broadcast(client_for(owner), room.token, message="x" * 40000)) == "mode"


def test_broadcast_reads_a_form_body(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured(amount=1)

    response = client_for(owner).post(f"{V1}/breakout-rooms/{room.token}/broadcast", {"message": "form"})

    assert response.status_code == 201
    assert ChatMessage.objects.get(message_type="comment").message == "form"
