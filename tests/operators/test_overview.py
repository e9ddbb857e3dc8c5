"""The breakout overview page: content and order, pagination, fixed query count, the
start/stop/remove buttons (POST + CSRF, through the services) and who may use it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import User
from breakout.overview.views import PARENTS_PER_PAGE
from breakout.services.lifecycle import assistance_request, breakout_start
from conversations.models import Conversation
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory
from tests.operators.conftest import ParentMaker

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("admin:breakout_overview")


def action_url(parent: Conversation, action: str) -> str:
    return reverse("admin:breakout_overview_action", args=[parent.pk, action])


def shown_parents(response: Any) -> list[int]:
    return [row.parent.pk for row in response.context["rows"]]


def test_overview_lists_every_parent_with_breakout_rooms_and_their_rooms(
    operator_client: Client, make_parent: ParentMaker, room: Conversation
) -> None:
    parent = make_parent(students=5, rooms=2)
    rooms = list(parent.breakout_rooms.order_by("id"))

    response = operator_client.get(OVERVIEW)

    assert response.status_code == 200
    assert shown_parents(response) == [parent.pk]  # `room` has no breakout rooms
    [row] = response.context["rows"]
    assert [(r.number, r.room.pk) for r in row.rooms] == [(1, rooms[0].pk), (2, rooms[1].pk)]
    # the owner in both rooms, five students spread 3 + 2
    assert sorted((r.room.attendee_total, r.room.student_total) for r in row.rooms) == [(3, 2), (4, 3)]
    page = response.content.decode()
    assert 'http-equiv="refresh"' not in page  # updates come from the event stream, not reloads
    assert "automatic" in page and "stopped" in page
    for breakout_room in rooms:
        assert breakout_room.token in page


def test_overview_puts_rooms_and_parents_asking_for_assistance_first(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    calm = make_parent()
    busy = make_parent(rooms=3)
    breakout_start(actor=operator, parent=busy, as_operator=True)
    first, second, third = busy.breakout_rooms.order_by("id")
    assistance_request(actor=operator, room=third, as_operator=True)

    response = operator_client.get(OVERVIEW)

    assert shown_parents(response) == [busy.pk, calm.pk]
    busy_row = response.context["rows"][0]
    assert [(r.number, r.room.pk) for r in busy_row.rooms] == [(3, third.pk), (1, first.pk), (2, second.pk)]
    assert busy_row.assistance_count == 1
    page = response.content.decode()
    assert f'<tr class="breakout-room assistance" data-token="{third.token}">' in page
    assert f'<tr class="breakout-room" data-token="{first.token}">' in page
    assert "1 asking for assistance" in page


def test_overview_shows_a_configured_parent_whose_rooms_are_all_gone(operator_client: Client) -> None:
    parent = ConversationFactory(breakout_room_mode=Conversation.BreakoutMode.FREE)

    response = operator_client.get(OVERVIEW)

    assert shown_parents(response) == [parent.pk]
    assert "No breakout rooms" in response.content.decode()


def test_overview_says_so_when_there_is_nothing_to_show(operator_client: Client, room: Conversation) -> None:
    response = operator_client.get(OVERVIEW)

    assert 'id="breakout-overview-empty"' in response.content.decode()


def _parents_with_rooms(count: int) -> list[Conversation]:
    parents = []
    for _ in range(count):
        parent = ConversationFactory(breakout_room_mode=Conversation.BreakoutMode.MANUAL)
        for _ in range(2):
            breakout_room = ConversationFactory(parent=parent, lobby_state=1)
            AttendeeFactory(room=breakout_room)
        parents.append(parent)
    return parents


def test_overview_is_paginated_by_25_parents_in_ascending_id_order(operator_client: Client) -> None:
    parents = _parents_with_rooms(PARENTS_PER_PAGE + 1)

    first = operator_client.get(OVERVIEW)
    second = operator_client.get(OVERVIEW, {"page": 2})

    assert shown_parents(first) == [p.pk for p in parents[:PARENTS_PER_PAGE]]
    assert shown_parents(second) == [parents[-1].pk]
    assert "page 1 of 2 (26 conversations)" in first.content.decode()


@pytest.mark.parametrize("page", ["0", "-1", "abc", "999", ""])
def test_overview_answers_a_bad_page_number_with_a_valid_page(operator_client: Client, page: str) -> None:
    _parents_with_rooms(1)

    response = operator_client.get(OVERVIEW, {"page": page})

    assert response.status_code == 200
    assert len(response.context["rows"]) == 1


@pytest.mark.parametrize("fragment", [{}, {"fragment": "1"}])
def test_overview_query_count_does_not_grow_with_parents_or_rooms(
    operator_client: Client, django_assert_num_queries: Any, fragment: dict[str, str]
) -> None:
    # session, user, COUNT of parents (paginator), the page of parents (assistance flag as an
    # EXISTS subquery), every room of those parents with attendee and student counts, the
    # attendees of those rooms (the names). The same for the page and its rows alone.
    _parents_with_rooms(2)
    with django_assert_num_queries(6):
        assert len(operator_client.get(OVERVIEW, fragment).context["rows"]) == 2

    _parents_with_rooms(30)
    with django_assert_num_queries(6):
        assert len(operator_client.get(OVERVIEW, fragment).context["rows"]) == PARENTS_PER_PAGE


def test_start_button_starts_the_parent_and_comes_back_with_a_message(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    parent = make_parent()

    response = operator_client.post(action_url(parent, "start"), {"page": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"{OVERVIEW}?page=1"
    parent.refresh_from_db()
    assert parent.breakout_room_status == 1
    assert set(parent.breakout_rooms.values_list("lobby_state", flat=True)) == {0}
    page = operator_client.get(response["Location"]).content.decode()
    assert f"Started 1 conversation(s): {parent.token}." in page
    assert 'class="breakout-status breakout-status-started"' in page


def test_stop_button_stops_the_parent(operator_client: Client, make_parent: ParentMaker, operator: User) -> None:
    parent = make_parent()
    breakout_start(actor=operator, parent=parent, as_operator=True)

    operator_client.post(action_url(parent, "stop"))

    parent.refresh_from_db()
    assert parent.breakout_room_status == 0
    assert set(parent.breakout_rooms.values_list("lobby_state", flat=True)) == {1}


def test_remove_asks_for_a_confirmation_first_and_changes_nothing_until_confirmed(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    parent = make_parent(rooms=2)
    tokens = list(parent.breakout_rooms.order_by("id").values_list("token", flat=True))

    asked = operator_client.get(action_url(parent, "remove"), {"page": "1"})
    unconfirmed = operator_client.post(action_url(parent, "remove"))

    for response in (asked, unconfirmed):
        assert response.status_code == 200
        page = response.content.decode()
        assert 'name="confirm" value="yes"' in page
        assert all(token in page for token in tokens)
    parent.refresh_from_db()
    assert parent.breakout_room_mode == Conversation.BreakoutMode.AUTOMATIC
    assert parent.breakout_rooms.count() == 2


def test_remove_button_removes_the_breakout_rooms_once_confirmed(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    parent = make_parent()

    response = operator_client.post(action_url(parent, "remove"), {"confirm": "yes"}, follow=True)

    parent.refresh_from_db()
    assert parent.breakout_room_mode == 0
    assert not parent.breakout_rooms.exists()
    assert shown_parents(response) == []


def test_start_button_on_an_unconfigured_parent_shows_the_service_error(operator_client: Client) -> None:
    parent = ConversationFactory()
    ConversationFactory(parent=parent)  # an orphan room keeps it on the page

    response = operator_client.post(action_url(parent, "start"), follow=True)

    parent.refresh_from_db()
    assert parent.breakout_room_status == 0
    assert f"Conversation {parent.token}: breakout rooms are not configured." in response.content.decode()


def test_action_urls_refuse_get_unknown_actions_unknown_parents_and_breakout_rooms(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    parent = make_parent()
    breakout_room = parent.breakout_rooms.first()

    assert operator_client.get(action_url(parent, "start")).status_code == 405
    assert operator_client.get(action_url(parent, "stop")).status_code == 405
    assert operator_client.post(action_url(parent, "explode")).status_code == 404
    assert operator_client.post(reverse("admin:breakout_overview_action", args=[999999, "start"])).status_code == 404
    assert operator_client.post(action_url(breakout_room, "start")).status_code == 404
    parent.refresh_from_db()
    assert parent.breakout_room_status == 0


def test_action_needs_a_csrf_token(operator: User, make_parent: ParentMaker) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    parent = make_parent()

    response = client.post(action_url(parent, "start"))

    assert response.status_code == 403
    parent.refresh_from_db()
    assert parent.breakout_room_status == 0


def test_overview_is_for_staff_only(client: Client, make_parent: ParentMaker) -> None:
    parent = make_parent()
    client.force_login(UserFactory(username="teacher-not-staff"))

    assert client.get(OVERVIEW).status_code == 302
    assert client.post(action_url(parent, "start")).status_code == 302
    parent.refresh_from_db()
    assert parent.breakout_room_status == 0


def test_anonymous_visitor_is_sent_to_login_from_the_overview(client: Client) -> None:
    response = client.get(OVERVIEW)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_with_view_permission_sees_the_page_without_buttons_and_cannot_act(
    client: Client, make_parent: ParentMaker
) -> None:
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    client.force_login(viewer)
    parent = make_parent()

    page = client.get(OVERVIEW)
    refused = client.post(action_url(parent, "start"))

    assert page.status_code == 200
    assert action_url(parent, "start") not in page.content.decode()
    assert refused.status_code == 403
    parent.refresh_from_db()
    assert parent.breakout_room_status == 0


def test_staff_without_conversation_permissions_cannot_open_the_overview(client: Client) -> None:
    client.force_login(UserFactory(username="helpdesk", is_staff=True))

    assert client.get(OVERVIEW).status_code == 403
