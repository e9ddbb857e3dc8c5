"""Chat v1: posting and reading messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation
from tests.conversations.helpers import attendee_of
from tests.factories import ChatMessageFactory
from tests.helpers import V1, V4, ocs_data, ocs_error

ClientFor = Callable[[User], APIClient]


def chat_url(room: Conversation) -> str:
    return f"{V1}/chat/{room.token}"


@pytest.mark.parametrize("method", ["get", "post"])
def test_chat_answers_401_to_anonymous_callers(anonymous_client: APIClient, room: Conversation, method: str) -> None:
    response = getattr(anonymous_client, method)(chat_url(room), {"message": "hi"})

    assert response.status_code == 401


@pytest.mark.parametrize("method", ["get", "post"])
def test_chat_answers_an_outsider_exactly_like_an_unknown_token(
    client_for: ClientFor, room: Conversation, outsider: User, method: str
) -> None:
    client = client_for(outsider)

    outsider_response = getattr(client, method)(chat_url(room), {"message": "hi"})
    unknown_response = getattr(client, method)(f"{V1}/chat/unknowntoken", {"message": "hi"})

    assert outsider_response.status_code == 404
    assert outsider_response.json() == unknown_response.json()
    assert not ChatMessage.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_chat_applies_the_lobby_rule_to_students(
    client_for: ClientFor, room: Conversation, student: User, method: str
) -> None:
    Conversation.objects.filter(pk=room.pk).update(lobby_state=Conversation.Lobby.NON_MODERATORS)

    response = getattr(client_for(student), method)(chat_url(room), {"message": "hi"})

    assert response.status_code == 412
    assert not ChatMessage.objects.exists()


def test_post_message_returns_201_with_the_whole_message(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    response = client_for(student).post(chat_url(room), {"message": "  Hello class\n", "referenceId": "ref-1"})

    assert response.status_code == 201
    message = ChatMessage.objects.get()
    assert ocs_data(response) == {
        "id": message.pk,
        "token": room.token,
        "actorType": "users",
        "actorId": "student",
        "actorDisplayName": "Student Person",
        "timestamp": int(message.created_at.timestamp()),
        "message": "Hello class",
        "messageParameters": [],
        "systemMessage": "",
        "messageType": "comment",
        "isReplyable": True,
        "referenceId": "ref-1",
        "reactions": [],
        "expirationTimestamp": 0,
        "markdown": True,
    }


def test_posting_updates_last_activity_and_the_posters_read_marker(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    Conversation.objects.filter(pk=room.pk).update(last_activity=timezone.now() - timedelta(days=1))

    response = client_for(student).post(chat_url(room), {"message": "hi"})

    room.refresh_from_db()
    assert timezone.now() - room.last_activity < timedelta(minutes=1)
    assert attendee_of(room, student).last_read_message == ocs_data(response)["id"]


def test_a_reply_carries_its_parent(client_for: ClientFor, room: Conversation, student: User, owner: User) -> None:
    question = client_for(student).post(chat_url(room), {"message": "Question?"})

    answer = client_for(owner).post(chat_url(room), {"message": "Answer.", "replyTo": ocs_data(question)["id"]})

    assert answer.status_code == 201
    assert ocs_data(answer)["parent"]["message"] == "Question?"
    assert ChatMessage.objects.get(pk=ocs_data(answer)["id"]).reply_to_id == ocs_data(question)["id"]


@pytest.mark.parametrize(
    ("params", "status", "key"),
    [
        ({}, 400, "message"),
        ({"message": ""}, 400, "message"),
        ({"message": " \t\n\r\0\x0b"}, 400, "message"),
        ({"message": "x" * 32001}, 413, "message"),
        ({"message": "😀" * 32001}, 413, "message"),
        ({"message": "hi", "replyTo": 999999}, 400, "replyTo"),
        ({"message": "hi", "replyTo": "first"}, 400, "replyTo"),
        ({"message": "hi", "referenceId": "r" * 65}, 400, "referenceId"),
    ],
)
def test_post_message_rejects_bad_input(
    client_for: ClientFor, room: Conversation, student: User, params: dict[str, Any], status: int, key: str
) -> None:
    response = client_for(student).post(chat_url(room), params, format="json")

    assert response.status_code == status
    assert ocs_error(response) == key
    assert not ChatMessage.objects.exists()


def test_nul_and_vertical_tab_at_the_ends_are_trimmed_like_php(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    response = client_for(student).post(chat_url(room), {"message": "\x00\x0b hi \x00"}, format="json")

    assert response.status_code == 201
    assert ChatMessage.objects.get().message == "hi"


def test_a_message_of_32000_code_points_after_trimming_is_accepted(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    response = client_for(student).post(chat_url(room), {"message": "  " + "😀" * 32000 + "\n"}, format="json")

    assert response.status_code == 201
    assert len(ChatMessage.objects.get().message) == 32000


def test_replying_to_a_system_message_is_refused(client_for: ClientFor, room: Conversation, owner: User) -> None:
    system = ChatMessageFactory(room=room, message_type=ChatMessage.Type.SYSTEM, system_message="user_added")

    response = client_for(owner).post(chat_url(room), {"message": "hi", "replyTo": system.pk})

    assert response.status_code == 400
    assert ocs_error(response) == "replyTo"


def test_a_read_only_room_refuses_messages_with_403(client_for: ClientFor, room: Conversation, owner: User) -> None:
    Conversation.objects.filter(pk=room.pk).update(read_only=1)

    response = client_for(owner).post(chat_url(room), {"message": "hi"})

    assert response.status_code == 403
    assert not ChatMessage.objects.exists()


def test_an_attendee_without_chat_permission_gets_403(client_for: ClientFor, room: Conversation, student: User) -> None:
    Attendee.objects.filter(room=room, user=student).update(permissions=1 | 2 | 4)

    response = client_for(student).post(chat_url(room), {"message": "hi"})

    assert response.status_code == 403


# --- reading --------------------------------------------------------------------------------------


@pytest.fixture
def messages(room: Conversation) -> list[ChatMessage]:
    return [ChatMessageFactory(room=room, message=f"m{i}") for i in range(5)]


def test_history_is_newest_first_with_the_last_given_header(
    client_for: ClientFor, room: Conversation, student: User, messages: list[ChatMessage]
) -> None:
    response = client_for(student).get(chat_url(room), {"lookIntoFuture": 0, "limit": 3})

    assert response.status_code == 200
    data = ocs_data(response)
    assert [m["message"] for m in data] == ["m4", "m3", "m2"]
    assert {m["token"] for m in data} == {room.token}
    assert response["X-Chat-Last-Given"] == str(messages[2].pk)


def test_history_before_a_known_message(
    client_for: ClientFor, room: Conversation, student: User, messages: list[ChatMessage]
) -> None:
    response = client_for(student).get(chat_url(room), {"lastKnownMessageId": messages[2].pk})

    assert [m["message"] for m in ocs_data(response)] == ["m1", "m0"]


def test_future_returns_newer_messages_ascending_and_advances_the_read_marker(
    client_for: ClientFor, room: Conversation, student: User, messages: list[ChatMessage]
) -> None:
    response = client_for(student).get(
        chat_url(room), {"lookIntoFuture": 1, "lastKnownMessageId": messages[1].pk, "limit": 2}
    )

    assert [m["message"] for m in ocs_data(response)] == ["m2", "m3"]
    assert response["X-Chat-Last-Given"] == str(messages[3].pk)
    assert attendee_of(room, student).last_read_message == messages[3].pk


def test_future_without_newer_messages_is_304_without_a_body(
    client_for: ClientFor, room: Conversation, student: User, messages: list[ChatMessage]
) -> None:
    response = client_for(student).get(
        chat_url(room), {"lookIntoFuture": 1, "lastKnownMessageId": messages[-1].pk, "timeout": 0}
    )

    assert response.status_code == 304
    assert response.content == b""


def test_expired_messages_are_not_returned(client_for: ClientFor, room: Conversation, student: User) -> None:
    ChatMessageFactory(room=room, message="gone", expires_at=timezone.now() - timedelta(seconds=1))
    ChatMessageFactory(room=room, message="kept")

    response = client_for(student).get(chat_url(room))

    assert [m["message"] for m in ocs_data(response)] == ["kept"]


def test_limit_is_capped_at_200(client_for: ClientFor, room: Conversation, student: User) -> None:
    ChatMessage.objects.bulk_create(ChatMessage(room=room, actor_id="owner", message=str(i)) for i in range(205))

    response = client_for(student).get(chat_url(room), {"limit": 500})

    assert len(ocs_data(response)) == 200


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"lookIntoFuture": 2}, "lookIntoFuture"),
        ({"lookIntoFuture": "yes"}, "lookIntoFuture"),
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"lastKnownMessageId": "last"}, "lastKnownMessageId"),
    ],
)
def test_reading_rejects_bad_parameters(
    client_for: ClientFor, room: Conversation, student: User, params: dict[str, Any], key: str
) -> None:
    response = client_for(student).get(chat_url(room), params)

    assert response.status_code == 400
    assert ocs_error(response) == key


def test_system_messages_read_in_the_viewers_perspective(
    client_for: ClientFor, room: Conversation, owner: User, student: User
) -> None:
    client_for(owner).post(f"{V4}/room/{room.token}/moderators", {"attendeeId": attendee_of(room, student).pk})

    for_student = ocs_data(client_for(student).get(chat_url(room)))[0]
    for_owner = ocs_data(client_for(owner).get(chat_url(room)))[0]

    assert for_student["systemMessage"] == "moderator_promoted"
    assert for_student["message"] == "{actor} promoted you to moderator"
    assert for_owner["message"] == "You promoted {user} to moderator"
    assert for_student["messageParameters"]["actor"] == {"type": "user", "id": "owner", "name": "Owner Person"}


@pytest.mark.parametrize("count", [3, 150])
def test_reading_the_chat_takes_a_constant_number_of_queries(
    client_for: ClientFor, room: Conversation, student: User, count: int, django_assert_num_queries: Any
) -> None:
    ChatMessage.objects.bulk_create(ChatMessage(room=room, actor_id="owner", message=str(i)) for i in range(count))
    client = client_for(student)

    # 1 the caller's attendee row with room and parent; 2 the page of messages with their parents.
    with django_assert_num_queries(2):
        response = client.get(chat_url(room))

    assert len(ocs_data(response)) == min(count, 100)


def test_leaving_reads_as_left_for_others_and_you_left_for_the_leaver(
    client_for: Callable[[User], APIClient], room: Conversation, owner: User, student: User
) -> None:
    client_for(student).delete(f"{V4}/room/{room.token}/participants/self")

    latest = client_for(owner).get(f"{V1}/chat/{room.token}", {"lookIntoFuture": 0, "limit": 1})

    message = ocs_data(latest)[0]
    assert (message["systemMessage"], message["message"]) == ("user_removed", "{actor} left the conversation")
    assert message["messageParameters"]["user"]["id"] == "student"
