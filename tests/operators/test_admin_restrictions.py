"""What the admin no longer lets an operator do by hand: create a conversation nobody can reach,
edit recorded timestamps, type raw codes; and what it shows instead: breakout rooms as rooms of
their parent (no mode of their own), the lifecycle buttons that fit a parent's state. Users are
added through ``accounts.services.user_create`` after Django's password validators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from breakout.services.lifecycle import breakout_start
from conversations.models import Attendee, ChatMessage, Conversation
from tests.factories import ConversationFactory, UserFactory
from tests.operators.conftest import ParentMaker
from tests.operators.test_admin import _change_form_data

pytestmark = pytest.mark.django_db

ADD = reverse("admin:conversations_conversation_add")
CONVERSATIONS = reverse("admin:conversations_conversation_changelist")


def change_url(conversation: Conversation) -> str:
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


def action_url(parent: Conversation, action: str) -> str:
    return reverse("admin:breakout_overview_action", args=[parent.pk, action])


# --- adding a conversation --------------------------------------------------------------------


def test_add_conversation_asks_for_name_type_and_owner_only(operator_client: Client) -> None:
    form = operator_client.get(ADD).context["adminform"].form

    assert list(form.fields) == ["name", "type", "owner"]
    assert [value for value, _ in form.fields["type"].choices] == [Conversation.Type.GROUP, Conversation.Type.PUBLIC]


def test_add_conversation_creates_it_through_the_service_with_its_owner(
    operator_client: Client, owner: User, student: User
) -> None:
    response = operator_client.post(ADD, {"name": "  Physics  ", "type": "3", "owner": owner.pk})

    created = Conversation.objects.get(name="Physics")
    assert response.status_code == 302
    assert response["Location"] == CONVERSATIONS
    assert created.type == Conversation.Type.PUBLIC
    assert list(created.attendees.values_list("user_id", "participant_type")) == [
        (owner.pk, Attendee.ParticipantType.OWNER)
    ]
    assert ChatMessage.objects.filter(
        room=created, system_message="conversation_created", actor_id=owner.username
    ).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "No owner", "type": "2"}, "owner"),
        ({"name": "   ", "type": "2", "owner": "OWNER"}, "name"),
        ({"name": "One to one", "type": "1", "owner": "OWNER"}, "type"),
        ({"name": "A breakout room", "type": "2", "owner": "OWNER", "parent": "PARENT"}, None),
    ],
)
def test_add_conversation_refuses_what_the_service_refuses_and_never_makes_a_breakout_room(
    operator_client: Client, owner: User, make_parent: ParentMaker, data: dict[str, str], field: str | None
) -> None:
    parent = make_parent()
    before = Conversation.objects.count()
    data = {key: {"OWNER": str(owner.pk), "PARENT": str(parent.pk)}.get(value, value) for key, value in data.items()}

    response = operator_client.post(ADD, data)

    if field is None:  # a parent field is not part of the form: the room is a plain conversation
        assert response.status_code == 302
        created = Conversation.objects.get(name="A breakout room")
        assert created.parent_id is None
        return
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Conversation.objects.count() == before


# --- recorded facts are read-only, coded settings are choices ---------------------------------


def test_timestamps_and_the_call_flag_cannot_be_edited(operator_client: Client, room: Conversation) -> None:
    recorded = timezone.now() - timedelta(days=3)
    Conversation.objects.filter(pk=room.pk).update(
        created_at=recorded, last_activity=recorded, active_since=None, call_flag=7
    )
    form = operator_client.get(change_url(room)).context["adminform"].form

    response = operator_client.post(
        change_url(room),
        _change_form_data(
            room,
            call_flag=0,
            active_since_0="2030-01-01",
            active_since_1="10:00:00",
            last_activity_0="2030-01-01",
            created_at_0="2030-01-01",
        ),
    )

    assert not {"created_at", "last_activity", "active_since", "call_flag"} & set(form.fields)
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.created_at, room.last_activity, room.active_since, room.call_flag) == (recorded, recorded, None, 7)
    page = operator_client.get(change_url(room)).content.decode()
    assert "in call, audio, video (7)" in page


def test_coded_settings_are_select_boxes_with_talks_values(operator_client: Client, room: Conversation) -> None:
    form = operator_client.get(change_url(room)).context["adminform"].form

    def values(name: str) -> list[int]:
        return [value for value, _ in form.fields[name].choices if value != ""]

    assert values("sip_enabled") == [0, 1, 2]
    assert values("recording_consent") == [0, 1, 2]
    assert values("listable") == [0, 1, 2]
    assert values("read_only") == [0, 1]
    assert values("mention_permissions") == [0, 1]
    assert values("lobby_state") == [0, 1]


def test_a_code_outside_the_choices_is_refused_and_nothing_changes(operator_client: Client, room: Conversation) -> None:
    response = operator_client.post(change_url(room), _change_form_data(room, sip_enabled=7, recording_consent=1))

    assert response.status_code == 200
    assert "sip_enabled" in response.context["adminform"].form.errors
    room.refresh_from_db()
    assert (room.sip_enabled, room.recording_consent) == (0, 0)


def test_a_chosen_setting_is_saved(operator_client: Client, room: Conversation) -> None:
    response = operator_client.post(change_url(room), _change_form_data(room, sip_enabled=2, recording_consent=1))

    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.sip_enabled, room.recording_consent) == (Conversation.Sip.ENABLED_NO_PIN, 1)


def test_attendee_notification_settings_are_select_boxes(operator_client: Client, room: Conversation) -> None:
    attendee = room.attendees.first()
    form = (
        operator_client.get(reverse("admin:conversations_attendee_change", args=[attendee.pk]))
        .context["adminform"]
        .form
    )

    assert [value for value, _ in form.fields["notification_level"].choices] == [0, 1, 2, 3]
    assert [value for value, _ in form.fields["notification_calls"].choices] == [0, 1]


# --- breakout rooms are rooms of their parent -------------------------------------------------


def test_breakout_rooms_show_no_mode_of_their_own(operator_client: Client, make_parent: ParentMaker) -> None:
    parent = make_parent(rooms=2)
    breakout_room = parent.breakout_rooms.first()

    listed = operator_client.get(CONVERSATIONS, {"kind": "breakout"}).content.decode()
    room_page = operator_client.get(change_url(breakout_room)).content.decode()
    parent_page = operator_client.get(change_url(parent)).content.decode()

    assert listed.count('<td class="field-breakout_mode">- (breakout room)</td>') == 2
    assert '<td class="field-breakout_mode">not configured</td>' not in listed
    assert listed.count('<td class="field-breakout_status">no assistance request</td>') == 2
    assert "not configured" not in room_page
    assert "- (breakout room)" in room_page and "no assistance request" in room_page
    assert "automatic" in parent_page and "stopped" in parent_page
    assert parent_page.count("no assistance request") == 2  # the inline: one line per room


# --- the parent's lifecycle buttons -----------------------------------------------------------


def buttons(page: str) -> set[str]:
    return {name for name in ("start", "stop", "remove") if f'id="breakout-{name}"' in page}


def test_a_stopped_parent_offers_start_and_remove(operator_client: Client, make_parent: ParentMaker) -> None:
    parent = make_parent()

    page = operator_client.get(change_url(parent)).content.decode()

    assert buttons(page) == {"start", "remove"}
    assert f'href="{action_url(parent, "remove")}?next=' in page  # the confirmation page, not a POST


def test_a_started_parent_offers_stop_and_remove(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = make_parent()
    breakout_start(actor=operator, parent=parent, as_operator=True)

    assert buttons(operator_client.get(change_url(parent)).content.decode()) == {"stop", "remove"}


def test_breakout_rooms_unconfigured_conversations_and_viewers_get_no_buttons(
    operator_client: Client, make_parent: ParentMaker, room: Conversation
) -> None:
    parent = make_parent()
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    viewer_client = Client()
    viewer_client.force_login(viewer)

    assert buttons(operator_client.get(change_url(parent.breakout_rooms.first())).content.decode()) == set()
    assert buttons(operator_client.get(change_url(room)).content.decode()) == set()
    assert buttons(viewer_client.get(change_url(parent)).content.decode()) == set()


def test_start_and_stop_on_the_parent_page_go_through_the_service_and_come_back(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = make_parent()

    started = operator_client.post(action_url(parent, "start"), {"next": change_url(parent)})
    parent.refresh_from_db()
    status_after_start = parent.breakout_room_status
    stopped = operator_client.post(action_url(parent, "stop"), {"next": change_url(parent)}, follow=True)

    assert started.status_code == 302 and started["Location"] == change_url(parent)
    assert status_after_start == Conversation.BreakoutStatus.STARTED
    parent.refresh_from_db()
    assert parent.breakout_room_status == Conversation.BreakoutStatus.STOPPED
    assert ChatMessage.objects.filter(room__parent=parent, system_message="breakout_rooms_stopped").count() == 2
    assert buttons(stopped.content.decode()) == {"start", "remove"}


def test_remove_from_the_parent_page_confirms_then_returns_to_it(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    parent = make_parent()

    asked = operator_client.get(action_url(parent, "remove"), {"next": change_url(parent)})
    done = operator_client.post(action_url(parent, "remove"), {"confirm": "yes", "next": change_url(parent)})

    assert f'name="next" value="{change_url(parent)}"' in asked.content.decode()
    assert done["Location"] == change_url(parent)
    parent.refresh_from_db()
    assert (parent.breakout_room_mode, parent.breakout_rooms.count()) == (0, 0)


def test_next_pointing_to_another_site_is_ignored(operator_client: Client, make_parent: ParentMaker) -> None:
    parent = make_parent()

    response = operator_client.post(action_url(parent, "start"), {"next": "https://evil.example/"})

    assert response["Location"] == reverse("admin:breakout_overview")


# --- users ------------------------------------------------------------------------------------

USER_ADD = reverse("admin:accounts_user_add")


def test_adding_a_user_goes_through_user_create(operator_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    import accounts.admin

    calls: list[dict[str, Any]] = []
    real = accounts.admin.user_create

    def recording(**kwargs: Any) -> User:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(accounts.admin, "user_create", recording)
    response = operator_client.post(
        USER_ADD,
        {"username": " alice ", "display_name": "Alice A.", "password1": "Tr0ub4dor&3x", "password2": "Tr0ub4dor&3x"},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    alice = User.objects.get(username="alice")
    assert calls == [{"username": "alice", "display_name": "Alice A.", "password": "Tr0ub4dor&3x"}]
    assert alice.display_name == "Alice A." and alice.check_password("Tr0ub4dor&3x")
    assert response["Location"] == reverse("admin:accounts_user_change", args=[alice.pk])


def test_adding_a_user_applies_the_password_validators_and_offers_no_unusable_password(
    operator_client: Client,
) -> None:
    form = operator_client.get(USER_ADD).context["adminform"].form
    response = operator_client.post(
        USER_ADD, {"username": "bob", "display_name": "", "password1": "secret", "password2": "secret"}
    )

    assert "usable_password" not in form.fields
    assert response.status_code == 200
    assert "password2" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="bob").exists()


def test_login_and_join_times_of_a_user_are_read_only(operator_client: Client, student: User) -> None:
    form = operator_client.get(reverse("admin:accounts_user_change", args=[student.pk])).context["adminform"].form

    assert not {"last_login", "date_joined"} & set(form.fields)


def test_a_conversation_factory_room_is_still_editable(operator_client: Client) -> None:
    conversation = ConversationFactory(name="Editable")

    response = operator_client.post(change_url(conversation), _change_form_data(conversation, listable=2))

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.listable == Conversation.Listable.ALL
