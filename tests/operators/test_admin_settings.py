"""The admin's conversation change form saves settings through the API's services: the same
system messages (with the operator as actor), the same ``chat.message`` events, the same rules
(a refusal changes nothing and says why)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation
from live.models import Event
from tests.operators.conftest import ParentMaker
from tests.operators.test_admin import _change_form_data

pytestmark = pytest.mark.django_db


def change_url(conversation: Conversation) -> str:
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


def newest_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize(
    ("changes", "system_message", "saved"),
    [
        ({"lobby_state": 1}, "lobby_non_moderators", {"lobby_state": 1}),
        ({"read_only": 1}, "read_only", {"read_only": 1}),
        ({"listable": 1}, "listable_users", {"listable": 1}),
        ({"message_expiration": 3600}, "message_expiration_enabled", {"message_expiration": 3600}),
        ({"description": "  Maths, room 5B  "}, "description_set", {"description": "Maths, room 5B"}),
    ],
    ids=["lobby", "read-only", "listable", "message-expiration", "description"],
)
def test_a_setting_changed_in_the_admin_posts_the_apis_system_message_and_event(
    operator_client: Client,
    operator: User,
    room: Conversation,
    changes: dict[str, Any],
    system_message: str,
    saved: dict[str, Any],
) -> None:
    before = newest_event_id()

    response = operator_client.post(change_url(room), _change_form_data(room, **changes))

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    room.refresh_from_db()
    assert {name: getattr(room, name) for name in saved} == saved
    posted = ChatMessage.objects.get(room=room, system_message=system_message)
    assert (posted.actor_id, posted.parameters["actor"]["id"]) == (operator.username, operator.username)
    [event] = Event.objects.filter(pk__gt=before, type="chat.message")
    assert (event.token, event.payload) == (room.token, {"messageId": posted.pk})
    assert not Attendee.objects.filter(room=room, user=operator).exists()  # an operator, not an attendee


def test_an_unchanged_form_changes_nothing_and_posts_nothing(operator_client: Client, room: Conversation) -> None:
    before = newest_event_id()

    response = operator_client.post(change_url(room), _change_form_data(room))

    assert response.status_code == 302
    assert not ChatMessage.objects.filter(room=room).exists()
    assert newest_event_id() == before


def test_default_permissions_in_the_admin_reset_the_attendees_own_as_the_api_does(
    operator_client: Client, room: Conversation
) -> None:
    Attendee.objects.filter(room=room).update(permissions=9)

    response = operator_client.post(change_url(room), _change_form_data(room, default_permissions=126))

    assert response.status_code == 302
    room.refresh_from_db()
    assert room.default_permissions == 127  # the custom bit, as the API adds it
    assert set(Attendee.objects.filter(room=room).values_list("permissions", flat=True)) == {0}


def test_the_admin_refuses_what_the_api_refuses_and_changes_nothing(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    breakout_room = make_parent().breakout_rooms.order_by("id").first()
    assert breakout_room is not None
    logged = LogEntry.objects.count()

    response = operator_client.post(
        change_url(breakout_room),
        _change_form_data(breakout_room, name="Renamed", listable=2),
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == ["Nothing was changed: the change was refused (breakout-room)."]
    breakout_room.refresh_from_db()
    assert (breakout_room.name, breakout_room.listable) == ("Room 1", 0)
    assert not ChatMessage.objects.filter(room=breakout_room, system_message="conversation_renamed").exists()
    assert LogEntry.objects.count() == logged


def test_the_lobby_timer_set_in_the_admin_is_the_apis_timer(operator_client: Client, room: Conversation) -> None:
    response = operator_client.post(
        change_url(room),
        _change_form_data(room, lobby_state=1, lobby_timer_0="2030-01-02", lobby_timer_1="08:30:00"),
    )

    assert response.status_code == 302
    room.refresh_from_db()
    assert room.lobby_state == 1
    assert room.lobby_timer is not None and room.lobby_timer.isoformat() == "2030-01-02T08:30:00+00:00"
    assert ChatMessage.objects.filter(room=room, system_message="lobby_non_moderators").count() == 1
