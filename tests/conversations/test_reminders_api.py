"""Reminders of chat messages (``/chat/{token}/{messageId}/reminder``) and the upcoming reminders
(``/chat/upcoming-reminders``), as in Talk's ChatController and docs/chat.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation, Reminder
from tests.conftest import V1, ocs_data, ocs_error
from tests.factories import AttendeeFactory, ChatMessageFactory, ConversationFactory

ClientFor = Callable[[User], APIClient]


def reminder_url(room: Conversation, message: ChatMessage | int) -> str:
    return f"{V1}/chat/{room.token}/{message if isinstance(message, int) else message.pk}/reminder"


@pytest.fixture
def message(room: Conversation) -> ChatMessage:
    return ChatMessageFactory(room=room, actor_id="owner", actor_display_name="Owner Person", message="Homework")


def in_an_hour() -> int:
    return int((timezone.now() + timedelta(hours=1)).timestamp())


def test_setting_a_reminder_answers_201_with_it(
    client_for: ClientFor, room: Conversation, student: User, message: ChatMessage
) -> None:
    when = in_an_hour()

    response = client_for(student).post(reminder_url(room, message), {"timestamp": when}, format="json")

    assert response.status_code == 201
    assert ocs_data(response) == {"userId": "student", "token": room.token, "messageId": message.pk, "timestamp": when}
    assert Reminder.objects.get().user == student


def test_setting_again_moves_the_reminder_and_get_reads_it(
    client_for: ClientFor, room: Conversation, student: User, message: ChatMessage
) -> None:
    client = client_for(student)
    client.post(reminder_url(room, message), {"timestamp": 1000}, format="json")
    client.post(reminder_url(room, message), {"timestamp": 2000}, format="json")

    response = client.get(reminder_url(room, message))

    assert (response.status_code, ocs_data(response)["timestamp"]) == (200, 2000)
    assert Reminder.objects.count() == 1


def test_reminders_are_personal_and_deleting_answers_200(
    client_for: ClientFor, room: Conversation, student: User, owner: User, message: ChatMessage
) -> None:
    client_for(student).post(reminder_url(room, message), {"timestamp": 1000}, format="json")

    others = client_for(owner).get(reminder_url(room, message))
    deleted = client_for(student).delete(reminder_url(room, message))
    gone = client_for(student).get(reminder_url(room, message))
    deleted_again = client_for(student).delete(reminder_url(room, message))

    assert (others.status_code, ocs_error(others)) == (404, "reminder")
    assert deleted.status_code == 200
    assert (gone.status_code, ocs_error(gone)) == (404, "reminder")
    assert deleted_again.status_code == 200
    assert not Reminder.objects.exists()


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_messages_are_404_with_message(
    client_for: ClientFor, room: Conversation, student: User, method: str
) -> None:
    elsewhere = ChatMessageFactory()

    for message_id in (999999, elsewhere.pk, 2**64):
        response = getattr(client_for(student), method)(reminder_url(room, message_id), {"timestamp": 1})
        assert (response.status_code, ocs_error(response)) == (404, "message")


@pytest.mark.parametrize("value", [-1, "x", 10**13, None])
def test_a_bad_timestamp_is_400(
    client_for: ClientFor, room: Conversation, student: User, message: ChatMessage, value: Any
) -> None:
    response = client_for(student).post(reminder_url(room, message), {"timestamp": value}, format="json")

    assert (response.status_code, ocs_error(response)) == (400, "timestamp")


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_outsiders_get_404_anonymous_401_and_the_lobby_412(
    client_for: ClientFor,
    anonymous_client: APIClient,
    room: Conversation,
    outsider: User,
    student: User,
    message: ChatMessage,
    method: str,
) -> None:
    url = reminder_url(room, message)

    assert getattr(client_for(outsider), method)(url, {"timestamp": 1}).status_code == 404
    assert getattr(anonymous_client, method)(url, {"timestamp": 1}).status_code == 401
    Conversation.objects.filter(pk=room.pk).update(lobby_state=1)
    assert getattr(client_for(student), method)(url, {"timestamp": 1}).status_code == 412


def test_upcoming_reminders_list_future_reminders_of_rooms_the_user_is_in(
    client_for: ClientFor, room: Conversation, student: User, message: ChatMessage
) -> None:
    later = ChatMessageFactory(room=room, actor_id="owner", message="Later")
    left_room = ConversationFactory()
    AttendeeFactory(room=left_room, user=student)
    in_left_room = ChatMessageFactory(room=left_room, actor_id="owner")
    client = client_for(student)
    client.post(reminder_url(room, later), {"timestamp": in_an_hour() + 60}, format="json")
    client.post(reminder_url(room, message), {"timestamp": in_an_hour()}, format="json")
    client.post(reminder_url(left_room, in_left_room), {"timestamp": in_an_hour()}, format="json")
    client.post(reminder_url(room, ChatMessageFactory(room=room, actor_id="owner")), {"timestamp": 5}, format="json")
    Attendee.objects.filter(room=left_room, user=student).delete()

    response = client.get(f"{V1}/chat/upcoming-reminders")

    assert response.status_code == 200
    data = ocs_data(response)
    assert [(r["messageId"], r["roomToken"], r["message"]) for r in data] == [
        (message.pk, room.token, "Homework"),
        (later.pk, room.token, "Later"),
    ]
    assert set(data[0]) == {
        "reminderTimestamp",
        "roomToken",
        "messageId",
        "actorType",
        "actorId",
        "actorDisplayName",
        "message",
        "messageParameters",
    }


def test_upcoming_reminders_answer_anonymous_callers_401(anonymous_client: APIClient) -> None:
    assert anonymous_client.get(f"{V1}/chat/upcoming-reminders").status_code == 401


@pytest.mark.parametrize("count", [3, 30])
def test_upcoming_reminders_take_a_constant_number_of_queries(
    client_for: ClientFor, student: User, count: int, django_assert_num_queries: Any
) -> None:
    remind_at = timezone.now() + timedelta(hours=1)
    for _ in range(count):
        room = ConversationFactory()
        AttendeeFactory(room=room, user=student)
        Reminder.objects.create(user=student, message=ChatMessageFactory(room=room), remind_at=remind_at)
    client = client_for(student)

    # 1 the reminders joined to their messages and rooms, filtered by membership.
    with django_assert_num_queries(1):
        response = client.get(f"{V1}/chat/upcoming-reminders")

    assert len(ocs_data(response)) == min(count, 10)
