"""The outbox: events commit or roll back with their change, in bulk, and wake nobody early."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Conversation
from live.models import Event
from live.services import NewEvent, events_prune, events_record, events_record_bulk
from tests.conftest import V1


def test_an_event_of_a_rolled_back_change_never_exists(db: None, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ZeroDivisionError), transaction.atomic():
        events_record(type="chat.message", token="abcd", payload={"messageId": 1})
        1 / 0  # noqa: B018  the change fails after its event was written

    assert not Event.objects.exists()
    assert callbacks == []  # nobody is woken either


def test_a_refused_chat_post_records_nothing(
    client_for: Callable[[User], APIClient], room: Conversation, student: User
) -> None:
    Conversation.objects.filter(pk=room.pk).update(read_only=1)

    response = client_for(student).post(f"{V1}/chat/{room.token}", {"message": "hi"})

    assert response.status_code == 403
    assert not Event.objects.exists()


def test_a_chat_post_records_its_event_and_wakes_waiters_after_the_commit(
    client_for: Callable[[User], APIClient], room: Conversation, student: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(student).post(f"{V1}/chat/{room.token}", {"message": "hi"})

    event = Event.objects.get()
    assert (event.type, event.token, event.parent_token, event.actor_id) == (
        "chat.message",
        room.token,
        None,
        "student",
    )
    assert event.payload == {"messageId": response.json()["ocs"]["data"]["id"]}
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)  # a plain test runs inside a transaction
def test_recording_outside_a_transaction_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        events_record(type="chat.message", token="abcd")


@pytest.mark.parametrize("size", [1, 50])
def test_bulk_recording_is_one_insert_whatever_the_count(
    db: None, size: int, django_assert_num_queries: Any, settings: Any
) -> None:
    from django.db import connection

    events = [NewEvent(type="breakout.switchto", token="abcd", target_user_id=f"s{i}") for i in range(size)]
    # SQLite: the INSERT. PostgreSQL: the ordering lock (pg_advisory_xact_lock), then the INSERT.
    expected = 2 if connection.vendor == "postgresql" else 1
    with transaction.atomic(), django_assert_num_queries(expected):
        created = events_record_bulk(events=events)

    assert [e.id for e in created] == sorted(e.id for e in created)
    assert Event.objects.count() == size


def test_pruning_deletes_only_events_older_than_the_window(db: None) -> None:
    with transaction.atomic():
        old, kept = events_record_bulk(events=[NewEvent(type="a", token="t"), NewEvent(type="b", token="t")])
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))

    assert events_prune(older_than_hours=24) == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [kept.pk]
