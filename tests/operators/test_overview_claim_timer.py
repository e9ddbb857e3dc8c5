"""The overview's assistance claim and timer (issue 14): who asked, since when and who claimed
per room; the Claim button (through ``assistance_claim(as_operator=True)``, a second claim shown
as an admin message); the end of the timer, "+5 min" and "Clear timer" per started parent; the
page's query count stays fixed with them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from breakout.models import AssistanceRequest
from breakout.overview.actions import EXTEND_SECONDS
from breakout.overview.views import PARENTS_PER_PAGE
from breakout.services import assistance, timers
from breakout.services.lifecycle import assistance_request, breakout_start
from conversations.models import Attendee, Conversation
from tests.operators.conftest import ParentMaker

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("admin:breakout_overview")


def action_url(parent: Conversation, action: str) -> str:
    return reverse("admin:breakout_overview_action", args=[parent.pk, action])


def room_action_url(room: Conversation, action: str) -> str:
    return reverse("admin:breakout_overview_room_action", args=[room.pk, action])


def asking_room(parent: Conversation) -> tuple[Conversation, User]:
    """The first breakout room of a started ``parent`` with one of its students asking."""
    student = (
        Attendee.objects.filter(room__parent=parent, participant_type=Attendee.ParticipantType.USER)
        .select_related("room", "user")
        .order_by("room_id", "id")
        .first()
    )
    assert student is not None and student.user is not None
    assistance_request(actor=student.user, room=student.room)
    return student.room, student.user


def started_parent(make_parent: ParentMaker, operator: User, **options: Any) -> Conversation:
    parent = make_parent(**options)
    breakout_start(actor=operator, parent=parent, as_operator=True)
    parent.refresh_from_db()
    return parent


def room_row(response: Any, room: Conversation) -> Any:
    [row] = [r for parent_row in response.context["rows"] for r in parent_row.rooms if r.room.pk == room.pk]
    return row


def test_room_asking_for_assistance_shows_who_asked_since_when_and_a_claim_button(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = started_parent(make_parent, operator)
    room, student = asking_room(parent)

    response = operator_client.get(OVERVIEW)

    row = room_row(response, room)
    assert row.requested_by == student.get_display_name()
    assert row.claimed_by == ""
    page = response.content.decode()
    assert f'class="breakout-asker">{student.get_display_name()}</span>' in page
    assert 'class="breakout-asked-at"' in page
    assert room_action_url(room, "claim") in page
    assert "claimed by" not in page


def test_claim_button_claims_for_the_operator_and_the_page_shows_who_claimed(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = started_parent(make_parent, operator)
    room, _ = asking_room(parent)

    response = operator_client.post(room_action_url(room, "claim"), {"page": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"{OVERVIEW}?page=1"
    request = AssistanceRequest.objects.get(room_id=room.pk, ended_at__isnull=True)
    assert request.claimed_by == operator and request.claimed_by_actor_id == operator.username
    followed = operator_client.get(response["Location"])
    page = followed.content.decode()
    assert f"Claimed the assistance request of 1 conversation(s): {room.token}." in page
    assert f"claimed by {operator.get_display_name()}" in page
    assert room_action_url(room, "claim") not in page  # claimed: no Claim button, Reset stays
    assert room_action_url(room, "reset") in page
    assert room_row(followed, room).claimed_by == operator.get_display_name()


def test_a_second_claim_shows_who_holds_the_request_as_an_admin_message(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = started_parent(make_parent, operator)
    room, _ = asking_room(parent)
    teacher = Attendee.objects.get(room=parent, participant_type=Attendee.ParticipantType.OWNER).user
    assert teacher is not None
    assistance.assistance_claim(actor=teacher, room=room)

    response = operator_client.post(room_action_url(room, "claim"), follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Conversation {room.token}: already claimed by {teacher.get_display_name()}." in page
    assert AssistanceRequest.objects.get(room_id=room.pk, ended_at__isnull=True).claimed_by == teacher


def test_claim_without_an_open_request_is_an_admin_message(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = started_parent(make_parent, operator)
    room = parent.breakout_rooms.order_by("id").first()

    response = operator_client.post(room_action_url(room, "claim"), follow=True)

    assert response.status_code == 200
    assert f"Conversation {room.token}: has no open assistance request." in response.content.decode()
    assert not AssistanceRequest.objects.exists()


def test_claim_needs_post_csrf_and_a_breakout_room(operator: User, make_parent: ParentMaker) -> None:
    parent = started_parent(make_parent, operator)
    room, _ = asking_room(parent)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    assert client.get(room_action_url(room, "claim")).status_code == 405
    assert client.post(room_action_url(room, "claim")).status_code == 403
    assert client.post(room_action_url(parent, "claim")).status_code in (403, 404)
    assert AssistanceRequest.objects.get(room_id=room.pk).claimed_by_actor_id == ""


def test_buttons_per_state(operator_client: Client, make_parent: ParentMaker, operator: User) -> None:
    stopped = make_parent()
    running = started_parent(make_parent, operator)
    timed = started_parent(make_parent, operator)
    timers.breakout_timer_set(actor=operator, parent=timed, duration=600, as_operator=True)
    timed.refresh_from_db()

    page = operator_client.get(OVERVIEW).content.decode()

    assert action_url(stopped, "extend") not in page and action_url(stopped, "clear-timer") not in page
    assert action_url(running, "extend") in page and action_url(running, "clear-timer") not in page
    assert action_url(timed, "extend") in page and action_url(timed, "clear-timer") in page
    assert timed.breakout_ends_at is not None
    assert f'datetime="{timezone.localtime(timed.breakout_ends_at).isoformat()}"' in page


def test_extend_without_a_timer_ends_the_rooms_in_five_minutes(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = started_parent(make_parent, operator)
    before = timezone.now()

    response = operator_client.post(action_url(parent, "extend"), follow=True)

    parent.refresh_from_db()
    assert parent.breakout_ends_at is not None
    assert before + timedelta(seconds=EXTEND_SECONDS - 1) <= parent.breakout_ends_at
    assert parent.breakout_ends_at <= timezone.now() + timedelta(seconds=EXTEND_SECONDS + 1)
    assert f"Gave 5 more minutes to 1 conversation(s): {parent.token}." in response.content.decode()


def test_extend_moves_a_running_end_five_minutes_later(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = started_parent(make_parent, operator)
    timers.breakout_timer_set(actor=operator, parent=parent, duration=1200, as_operator=True)
    parent.refresh_from_db()
    assert parent.breakout_ends_at is not None
    old_end = parent.breakout_ends_at

    operator_client.post(action_url(parent, "extend"))

    parent.refresh_from_db()
    assert parent.breakout_ends_at is not None
    moved = (parent.breakout_ends_at - old_end).total_seconds()
    assert EXTEND_SECONDS - 2 <= moved <= EXTEND_SECONDS + 2


def test_clear_timer_removes_the_end(operator_client: Client, make_parent: ParentMaker, operator: User) -> None:
    parent = started_parent(make_parent, operator)
    timers.breakout_timer_set(actor=operator, parent=parent, duration=600, as_operator=True)

    response = operator_client.post(action_url(parent, "clear-timer"), follow=True)

    parent.refresh_from_db()
    assert parent.breakout_ends_at is None
    assert f"Cleared the timer of 1 conversation(s): {parent.token}." in response.content.decode()


def test_extend_and_clear_of_stopped_rooms_are_admin_messages(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    parent = make_parent()

    for action in ("extend", "clear-timer"):
        response = operator_client.post(action_url(parent, action), follow=True)
        assert response.status_code == 200
        assert f"Conversation {parent.token}: breakout rooms are not started." in response.content.decode()
    parent.refresh_from_db()
    assert parent.breakout_ends_at is None and parent.breakout_room_status == 0


def _started_parents_asking(make_parent: ParentMaker, operator: User, count: int) -> None:
    for _ in range(count):
        parent = started_parent(make_parent, operator, students=2, rooms=2)
        room, _ = asking_room(parent)
        assistance.assistance_claim(actor=operator, room=room, as_operator=True)
        timers.breakout_timer_set(actor=operator, parent=parent, duration=600, as_operator=True)


@pytest.mark.parametrize("fragment", [{}, {"fragment": "1"}])
def test_overview_query_count_with_assistance_and_timers_does_not_grow(
    operator_client: Client, make_parent: ParentMaker, operator: User, django_assert_num_queries: Any, fragment: dict
) -> None:
    # The six queries of the plain page (test_overview.py) and the open assistance requests of
    # the rooms asking, with who asked and who claimed (one JOIN). The timer is a parent field.
    _started_parents_asking(make_parent, operator, 2)
    with django_assert_num_queries(7):
        response = operator_client.get(OVERVIEW, fragment)
    assert len(response.context["rows"]) == 2
    assert response.content.decode().count("claimed by") == 2

    _started_parents_asking(make_parent, operator, PARENTS_PER_PAGE)
    with django_assert_num_queries(7):
        response = operator_client.get(OVERVIEW, fragment)
    assert len(response.context["rows"]) == PARENTS_PER_PAGE
    assert response.content.decode().count("claimed by") == PARENTS_PER_PAGE


def test_a_started_parents_admin_page_has_the_timer_buttons(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = started_parent(make_parent, operator)
    change = reverse("admin:conversations_conversation_change", args=[parent.pk])

    untimed = operator_client.get(change).content.decode()
    operator_client.post(action_url(parent, "extend"), {"next": change})
    timed = operator_client.get(change).content.decode()

    assert 'id="breakout-extend"' in untimed and 'value="+5 minutes"' in untimed
    assert 'id="breakout-clear-timer"' not in untimed
    assert 'id="breakout-clear-timer"' in timed and 'value="Clear timer"' in timed
