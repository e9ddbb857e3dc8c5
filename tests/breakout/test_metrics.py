"""The breakout gauges of /metrics, computed at scrape time in two queries whatever the size."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from breakout import metrics
from breakout.models import AssistanceRequest
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation
from live import hub
from tests.breakout.conftest import add_students
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory

TOKEN = "scrape-token-for-tests"


def scrape() -> dict[str, float]:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name.startswith("breakout_")
    }


def class_with_rooms(*, rooms: int, students: int, start: bool, assistance: int = 0) -> Conversation:
    parent = ConversationFactory()
    teacher = UserFactory()
    AttendeeFactory(room=parent, user=teacher, participant_type=Attendee.ParticipantType.OWNER)
    pupils = add_students(parent, students, prefix=f"p{parent.pk}-")
    lifecycle.breakout_configure(actor=teacher, parent=parent, mode=1, amount=rooms, attendee_map={})
    if start:
        lifecycle.breakout_start(actor=teacher, parent=parent)
        for room in Conversation.objects.filter(parent=parent).order_by("id")[:assistance]:
            # Since the caller is checked under the lock, each room's own student asks.
            asker = next(p for p in pupils if Attendee.objects.filter(room=room, user=p).exists())
            lifecycle.assistance_request(actor=asker, room=room)
    return parent


@pytest.fixture
def waiting_clients() -> Iterator[None]:
    """No source during the test; the live layer's (registered by the app) again after it."""
    metrics.waiting_clients_source(None)
    yield
    metrics.waiting_clients_source(hub.waiting_clients)


@override_settings(METRICS_TOKEN=TOKEN)
def test_the_gauges_count_rooms_of_started_parents_and_open_assistance_requests(db: None) -> None:
    class_with_rooms(rooms=3, students=4, start=True, assistance=2)
    class_with_rooms(rooms=2, students=2, start=True)
    class_with_rooms(rooms=4, students=2, start=False)

    assert scrape() == {
        "breakout_parents_started": 2,
        "breakout_rooms_running": 5,
        "breakout_assistance_requests_open": 2,
        "breakout_assistance_oldest_age_seconds": pytest.approx(0, abs=60),
        "breakout_waiting_clients": 0,  # the live layer's count of this process: nobody waits
    }


@override_settings(METRICS_TOKEN=TOKEN)
def test_stopping_a_parent_takes_its_rooms_and_requests_off_the_gauges(db: None) -> None:
    parent = class_with_rooms(rooms=2, students=2, start=True, assistance=1)
    owner = Attendee.objects.get(room=parent, participant_type=Attendee.ParticipantType.OWNER).user

    lifecycle.breakout_stop(actor=owner, parent=parent)

    assert scrape() == {
        "breakout_parents_started": 0,
        "breakout_rooms_running": 0,
        "breakout_assistance_requests_open": 0,
        "breakout_assistance_oldest_age_seconds": 0,
        "breakout_waiting_clients": 0,
    }


@override_settings(METRICS_TOKEN=TOKEN)
def test_the_oldest_open_assistance_request_gives_the_age(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert scrape()["breakout_assistance_oldest_age_seconds"] == 0  # none at all

    class_with_rooms(rooms=3, students=3, start=True, assistance=3)
    first, second, third = AssistanceRequest.objects.order_by("id")
    now = first.requested_at + timedelta(hours=1)
    AssistanceRequest.objects.filter(pk=first.pk).update(
        requested_at=now - timedelta(seconds=900), ended_at=now - timedelta(seconds=800)
    )  # the oldest, but ended: not counted
    AssistanceRequest.objects.filter(pk=second.pk).update(requested_at=now - timedelta(seconds=125.5))
    AssistanceRequest.objects.filter(pk=third.pk).update(requested_at=now - timedelta(seconds=30))
    monkeypatch.setattr(metrics.timezone, "now", lambda: now)

    assert scrape()["breakout_assistance_oldest_age_seconds"] == 125.5

    AssistanceRequest.objects.update(ended_at=now)
    assert scrape()["breakout_assistance_oldest_age_seconds"] == 0


@override_settings(METRICS_TOKEN=TOKEN)
def test_waiting_clients_are_exported_only_once_the_live_layer_gives_a_source(db: None, waiting_clients: None) -> None:
    assert "breakout_waiting_clients" not in scrape()

    metrics.waiting_clients_source(lambda: 7)

    assert scrape()["breakout_waiting_clients"] == 7


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.parametrize(("classes", "rooms"), [(1, 2), (4, 6)])
def test_a_scrape_costs_two_queries_whatever_the_number_of_rooms(
    db: None, django_assert_num_queries: pytest.FixtureRequest, classes: int, rooms: int
) -> None:
    for _ in range(classes):
        class_with_rooms(rooms=rooms, students=rooms, start=True, assistance=1)

    # 1: one aggregate over breakout rooms joined to their parents; 2: the oldest open assistance
    # request (no session, no user: the scrape is authenticated by its token alone).
    with django_assert_num_queries(2):
        values = scrape()

    assert values["breakout_rooms_running"] == classes * rooms
    assert values["breakout_assistance_requests_open"] == classes
