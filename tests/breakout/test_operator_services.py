"""The operators' use of the assistance claim and the timer services (``as_operator``): an
operator (staff, not in the conversation) claims an assistance request and sets or clears the
timer; without ``as_operator`` the same user is refused like any outsider (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from breakout.models import AssistanceRequest
from breakout.services import assistance, lifecycle, timers
from breakout.services.assistance import ClaimedError
from conversations.models import Attendee, Conversation
from live.models import Event
from project.errors import ServiceError
from tests.breakout.conftest import parent_attendee

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(room: Conversation, owner: User, student: User, configured: Callable[..., list]) -> list[Conversation]:
    configured(mode=2, amount=2, attendee_map=f'{{"{parent_attendee(room, student).pk}": 0}}')
    lifecycle.breakout_start(actor=owner, parent=room)
    return list(room.breakout_rooms.order_by("id"))


def test_operator_claims_an_assistance_request_and_is_recorded_as_claimer(
    room: Conversation, student: User, operator: User, started: list[Conversation]
) -> None:
    first = started[0]
    lifecycle.assistance_request(actor=student, room=first)
    assert not Attendee.objects.filter(room__in=[room, *started], user=operator).exists()

    claimed = assistance.assistance_claim(actor=operator, room=first, as_operator=True)

    request = AssistanceRequest.objects.get(room_id=first.pk, ended_at__isnull=True)
    assert request.pk == claimed.pk
    assert request.claimed_by == operator and request.claimed_by_actor_id == "operator"
    assert request.claimed_at is not None
    event = Event.objects.filter(type="breakout.assistance", token=first.token).latest("id")
    assert event.payload["claimedBy"] == "operator"
    assert event.parent_token == room.token


def test_operator_without_as_operator_may_not_claim(student: User, operator: User, started: list[Conversation]) -> None:
    first = started[0]
    lifecycle.assistance_request(actor=student, room=first)

    with pytest.raises(ServiceError):
        assistance.assistance_claim(actor=operator, room=first)

    assert AssistanceRequest.objects.get(room_id=first.pk).claimed_by_actor_id == ""


def test_operator_claim_of_a_request_a_moderator_holds_is_409_with_the_holder(
    owner: User, student: User, operator: User, started: list[Conversation]
) -> None:
    first = started[0]
    lifecycle.assistance_request(actor=student, room=first)
    assistance.assistance_claim(actor=owner, room=first)

    with pytest.raises(ClaimedError) as refused:
        assistance.assistance_claim(actor=operator, room=first, as_operator=True)

    assert refused.value.status_code == 409
    assert refused.value.data["claimedBy"] == owner.username
    assert AssistanceRequest.objects.get(room_id=first.pk).claimed_by == owner


def test_operator_claim_without_an_open_request_is_400_status(operator: User, started: list[Conversation]) -> None:
    with pytest.raises(ServiceError) as refused:
        assistance.assistance_claim(actor=operator, room=started[0], as_operator=True)

    assert refused.value.status_code == 400 and refused.value.key == "status"


def test_operator_sets_and_clears_the_timer(room: Conversation, operator: User, started: list[Conversation]) -> None:
    before = timezone.now()

    timers.breakout_timer_set(actor=operator, parent=room, duration=300, as_operator=True)

    room.refresh_from_db()
    assert room.breakout_ends_at is not None
    assert before + timedelta(seconds=299) <= room.breakout_ends_at <= timezone.now() + timedelta(seconds=301)
    assert Event.objects.filter(type="breakout.timer", token=room.token).exists()

    timers.breakout_timer_clear(actor=operator, parent=room, as_operator=True)

    room.refresh_from_db()
    assert room.breakout_ends_at is None


def test_operator_without_as_operator_may_not_set_the_timer(
    room: Conversation, operator: User, started: list[Conversation]
) -> None:
    with pytest.raises(ServiceError):
        timers.breakout_timer_set(actor=operator, parent=room, duration=300)

    room.refresh_from_db()
    assert room.breakout_ends_at is None
