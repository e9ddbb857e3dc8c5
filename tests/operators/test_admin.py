"""The Django admin: changelists with fixed query counts, read-only lifecycle fields, links and
the breakout actions (through the lifecycle services). The accounts admin: tests/accounts."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import User
from breakout.services.lifecycle import assistance_request, breakout_start
from conversations.models import Attendee, ChatMessage, Conversation
from tests.factories import AttendeeFactory, ChatMessageFactory, ConversationFactory, UserFactory
from tests.operators.conftest import ParentMaker

pytestmark = pytest.mark.django_db

CONVERSATIONS = reverse("admin:conversations_conversation_changelist")


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def run_action(client: Client, action: str, rooms: list[Conversation]) -> Any:
    return client.post(
        CONVERSATIONS,
        {"action": action, "_selected_action": [room.pk for room in rooms]},
        follow=True,
    )


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:index",
        "admin:accounts_user_changelist",
        "admin:accounts_apppassword_changelist",
        "admin:auth_group_changelist",
        "admin:conversations_conversation_changelist",
        "admin:conversations_attendee_changelist",
        "admin:conversations_chatmessage_changelist",
        "admin:accounts_appconfigvalue_changelist",
    ],
)
def test_every_admin_page_of_the_operators_opens(
    url_name: str, operator_client: Client, make_parent: ParentMaker
) -> None:
    make_parent()

    response = operator_client.get(reverse(url_name))

    assert response.status_code == 200


def test_admin_index_links_to_the_breakout_overview(operator_client: Client) -> None:
    response = operator_client.get(reverse("admin:index"))

    assert f'href="{reverse("admin:breakout_overview")}"' in response.content.decode()


def _fill_conversations(count: int) -> None:
    for _ in range(count):
        parent = ConversationFactory(breakout_room_mode=Conversation.BreakoutMode.FREE)
        room = ConversationFactory(parent=parent)
        AttendeeFactory(room=parent)
        AttendeeFactory(room=room)
        ChatMessageFactory(room=room)


# Every changelist: session, user, COUNT of the filtered rows, the page of rows (related rows
# joined, attendee and room counts as correlated subqueries). Then per page:
@pytest.mark.parametrize(
    ("url_name", "queries"),
    [
        ("admin:conversations_conversation_changelist", 4),  # (show_full_result_count off)
        ("admin:conversations_attendee_changelist", 5),  # + DISTINCT actor_type for its filter
        ("admin:conversations_chatmessage_changelist", 5),  # + DISTINCT system_message for its filter
        ("admin:accounts_user_changelist", 6),  # + groups for the filter, + COUNT of all rows
        ("admin:accounts_apppassword_changelist", 5),  # + COUNT of all rows
    ],
)
def test_changelist_query_count_does_not_grow_with_the_rows(
    url_name: str, queries: int, operator_client: Client, django_assert_num_queries: Any
) -> None:
    _fill_conversations(2)
    with django_assert_num_queries(queries):
        assert operator_client.get(reverse(url_name)).status_code == 200

    _fill_conversations(20)
    with django_assert_num_queries(queries):
        assert operator_client.get(reverse(url_name)).status_code == 200


def test_conversation_search_finds_a_room_by_token_name_and_user(operator_client: Client, room: Conversation) -> None:
    other = ConversationFactory(name="Other")

    for term in (room.token, "Class", "student"):
        response = operator_client.get(CONVERSATIONS, {"q": term})
        shown = {conversation.pk for conversation in response.context["cl"].result_list}
        assert shown == {room.pk}, term
    assert other.pk not in shown


def test_parent_change_page_shows_its_breakout_rooms_inline_with_links(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    parent = make_parent(students=4, rooms=2)
    rooms = list(parent.breakout_rooms.order_by("id"))

    page = operator_client.get(reverse("admin:conversations_conversation_change", args=[parent.pk])).content.decode()

    for breakout_room in rooms:
        assert reverse("admin:conversations_conversation_change", args=[breakout_room.pk]) in page
        # three attendees per room: the owner and two of the four students
        assert f'?room__id__exact={breakout_room.pk}">3</a>' in page
    assert f'?parent__id__exact={parent.pk}">2</a>' in page


def test_breakout_room_change_page_links_to_its_parent(operator_client: Client, make_parent: ParentMaker) -> None:
    parent = make_parent()
    breakout_room = parent.breakout_rooms.first()

    page = operator_client.get(reverse("admin:conversations_conversation_change", args=[breakout_room.pk]))

    assert reverse("admin:conversations_conversation_change", args=[parent.pk]) in page.content.decode()


def _change_form_data(conversation: Conversation, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": conversation.name,
        "description": "",
        "lobby_state": conversation.lobby_state,
        "lobby_timer_0": "",
        "lobby_timer_1": "",
        "read_only": 0,
        "listable": 0,
        "message_expiration": 0,
        "default_permissions": 0,
        "call_permissions": 0,
        "sip_enabled": 0,
        "recording_consent": 0,
        "mention_permissions": 0,
        "call_flag": 0,
        "active_since_0": "",
        "active_since_1": "",
        "last_activity_0": "2026-01-01",
        "last_activity_1": "10:00:00",
        "created_at_0": "2026-01-01",
        "created_at_1": "10:00:00",
        "breakout_rooms-TOTAL_FORMS": 0,
        "breakout_rooms-INITIAL_FORMS": 0,
        "breakout_rooms-MIN_NUM_FORMS": 0,
        "breakout_rooms-MAX_NUM_FORMS": 1000,
    }
    data.update(overrides)
    return data


def test_lifecycle_fields_are_read_only_in_the_conversation_form(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    parent = make_parent()
    breakout_room = parent.breakout_rooms.first()
    url = reverse("admin:conversations_conversation_change", args=[breakout_room.pk])

    response = operator_client.post(
        url,
        _change_form_data(
            breakout_room,
            name="Renamed",
            lobby_state=0,
            breakout_room_mode=2,
            breakout_room_status=2,
            parent="",
            **{"token": "hijacked"},
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    breakout_room.refresh_from_db()
    assert breakout_room.name == "Renamed"
    assert (breakout_room.lobby_state, breakout_room.breakout_room_mode, breakout_room.breakout_room_status) == (
        1,
        0,
        0,
    )
    assert breakout_room.parent_id == parent.pk
    assert breakout_room.token != "hijacked"


def test_conversations_cannot_be_deleted_in_the_admin(operator_client: Client, room: Conversation) -> None:
    response = operator_client.post(reverse("admin:conversations_conversation_delete", args=[room.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Conversation.objects.filter(pk=room.pk).exists()


def test_chat_messages_are_read_only(operator_client: Client, room: Conversation) -> None:
    message = ChatMessageFactory(room=room, message="hello")
    url = reverse("admin:conversations_chatmessage_change", args=[message.pk])

    assert operator_client.get(url).status_code == 200
    assert operator_client.post(url, {"message": "changed"}).status_code == 403
    assert operator_client.post(reverse("admin:conversations_chatmessage_delete", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.message == "hello"


# --- breakout actions -------------------------------------------------------------------------


def test_start_action_starts_the_selected_parents_through_the_service(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    first, second, untouched = make_parent(), make_parent(), make_parent()

    response = run_action(operator_client, "breakout_start_selected", [first, second])

    statuses = dict(Conversation.objects.filter(parent__isnull=True).values_list("pk", "breakout_room_status"))
    assert statuses == {first.pk: 1, second.pk: 1, untouched.pk: 0}
    assert set(Conversation.objects.filter(parent=first).values_list("lobby_state", flat=True)) == {0}
    assert (
        ChatMessage.objects.filter(
            room__parent=first, system_message="breakout_rooms_started", actor_id=operator.username
        ).count()
        == 2
    )
    assert f"Started 2 conversation(s): {first.token}, {second.token}." in messages_of(response)


def test_stop_action_stops_the_selected_parents_and_clears_assistance(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = make_parent()
    breakout_start(actor=operator, parent=parent, as_operator=True)
    asking = parent.breakout_rooms.first()
    assistance_request(actor=operator, room=asking, as_operator=True)

    run_action(operator_client, "breakout_stop_selected", [parent])

    parent.refresh_from_db()
    asking.refresh_from_db()
    assert parent.breakout_room_status == 0
    assert (asking.lobby_state, asking.breakout_room_status) == (1, 0)


def test_remove_action_deletes_the_breakout_rooms_and_resets_the_parent(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    parent = make_parent()

    response = run_action(operator_client, "breakout_remove_selected", [parent])

    parent.refresh_from_db()
    assert (parent.breakout_room_mode, parent.breakout_room_status) == (0, 0)
    assert not Conversation.objects.filter(parent=parent).exists()
    assert f"Removed the breakout rooms of 1 conversation(s): {parent.token}." in messages_of(response)


def test_start_action_reports_unconfigured_parents_and_breakout_rooms_and_starts_the_rest(
    operator_client: Client, make_parent: ParentMaker, room: Conversation
) -> None:
    parent = make_parent()
    breakout_room = parent.breakout_rooms.first()

    response = run_action(operator_client, "breakout_start_selected", [room, parent, breakout_room])

    parent.refresh_from_db()
    room.refresh_from_db()
    assert parent.breakout_room_status == 1
    assert room.breakout_room_status == 0
    shown = messages_of(response)
    assert f"Conversation {room.token}: breakout rooms are not configured." in shown
    assert f"Conversation {breakout_room.token}: is a breakout room, select its parent." in shown


def test_assistance_reset_action_clears_the_request_of_selected_rooms(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = make_parent(rooms=3)
    breakout_start(actor=operator, parent=parent, as_operator=True)
    first, second, third = parent.breakout_rooms.order_by("id")
    for asking in (first, second, third):
        assistance_request(actor=operator, room=asking, as_operator=True)

    response = run_action(operator_client, "assistance_reset", [first, second, parent])

    statuses = dict(Conversation.objects.filter(parent=parent).values_list("pk", "breakout_room_status"))
    assert statuses == {first.pk: 0, second.pk: 0, third.pk: 2}
    assert f"Conversation {parent.token}: is not a breakout room." in messages_of(response)


def test_breakout_actions_need_the_change_permission(make_parent: ParentMaker) -> None:
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    client = Client()
    client.force_login(viewer)
    parent = make_parent()

    response = run_action(client, "breakout_start_selected", [parent])

    parent.refresh_from_db()
    assert parent.breakout_room_status == 0
    assert response.status_code == 200  # Django answers an unavailable action with the changelist


def test_anonymous_visitor_is_sent_to_the_login_page(client: Client) -> None:
    response = client.get(CONVERSATIONS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_attendees_cannot_be_added_or_deleted_in_the_admin(operator_client: Client, room: Conversation) -> None:
    attendee = Attendee.objects.filter(room=room).first()

    assert operator_client.get(reverse("admin:conversations_attendee_add")).status_code == 403
    response = operator_client.post(reverse("admin:conversations_attendee_delete", args=[attendee.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Attendee.objects.filter(pk=attendee.pk).exists()


def test_parent_change_page_query_count_does_not_grow_with_its_rooms(
    operator_client: Client, make_parent: ParentMaker, django_assert_num_queries: Any
) -> None:
    small = make_parent(students=2, rooms=1)
    large = make_parent(students=20, rooms=10)

    # session, user, the parent (with its parent joined and its counts), the inline's rooms
    # (with attendee counts as subqueries).
    with django_assert_num_queries(4) as measured:
        operator_client.get(reverse("admin:conversations_conversation_change", args=[small.pk]))
    with django_assert_num_queries(len(measured.captured_queries)):
        operator_client.get(reverse("admin:conversations_conversation_change", args=[large.pk]))


def test_renaming_in_the_admin_goes_through_the_service_and_posts_conversation_renamed(
    operator_client: Client, room: Conversation
) -> None:
    url = reverse("admin:conversations_conversation_change", args=[room.pk])
    old_name = room.name

    response = operator_client.post(url, _change_form_data(room, name="  Renamed  ", read_only=1))

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    room.refresh_from_db()
    assert (room.name, room.read_only) == ("Renamed", 1)
    renamed = ChatMessage.objects.get(room=room, system_message="conversation_renamed")
    assert renamed.parameters["text"] == {"oldName": old_name, "newName": "Renamed"}
