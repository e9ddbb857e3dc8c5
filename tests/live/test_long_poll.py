"""Chat long polling in-process (the wake-up across processes and hosts is in tests/e2e)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, Conversation
from conversations.services.chat import chat_message_post
from tests.conftest import V1, ocs_data, ocs_error


def chat_url(room: Conversation) -> str:
    return f"{V1}/chat/{room.token}"


def test_a_long_poll_answers_304_without_a_body_after_its_timeout(
    client_for: Callable[[User], APIClient], room: Conversation, student: User
) -> None:
    response = client_for(student).get(chat_url(room), {"lookIntoFuture": 1, "lastKnownMessageId": 0, "timeout": 1})

    assert response.status_code == 304
    assert response.content == b""


def test_a_long_poll_answers_at_once_when_a_newer_message_exists(
    client_for: Callable[[User], APIClient], room: Conversation, student: User, owner: User
) -> None:
    posted = chat_message_post(attendee=Attendee.objects.get(room=room, user=owner), message="already there")

    response = client_for(student).get(chat_url(room), {"lookIntoFuture": 1, "lastKnownMessageId": 0})

    assert [m["id"] for m in ocs_data(response)] == [posted.pk]


@pytest.mark.parametrize("value", ["soon", "1.5"])
def test_a_bad_timeout_is_400(
    client_for: Callable[[User], APIClient], room: Conversation, student: User, value: str
) -> None:
    response = client_for(student).get(chat_url(room), {"lookIntoFuture": 1, "timeout": value})

    assert response.status_code == 400
    assert ocs_error(response) == "timeout"


def test_an_outsider_long_polling_gets_404_at_once(
    client_for: Callable[[User], APIClient], room: Conversation, outsider: User
) -> None:
    response = client_for(outsider).get(chat_url(room), {"lookIntoFuture": 1, "timeout": 30})

    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_long_poll_wakes_when_another_thread_posts(
    client_for: Callable[[User], APIClient], room: Conversation, student: User, owner: User
) -> None:
    poster = Attendee.objects.get(room=room, user=owner)
    posted: list[int] = []

    def post_later() -> None:
        try:
            threading.Event().wait(0.5)
            posted.append(chat_message_post(attendee=poster, message="wake up").pk)
        finally:
            connection.close()

    thread = threading.Thread(target=post_later)
    thread.start()
    response = client_for(student).get(chat_url(room), {"lookIntoFuture": 1, "lastKnownMessageId": 0, "timeout": 20})
    thread.join()

    assert response.status_code == 200
    assert [m["id"] for m in ocs_data(response)] == posted
