"""The conversation endpoints of the Talk surface: the single conversation's Talk hash, favorites,
notification levels, read-only and permissions (Talk's docs/conversation.md and participant.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import AppConfigValue, User
from conversations.models import Attendee, Conversation
from tests.conftest import V1, V4, ocs_data, ocs_error
from tests.conversations.helpers import attendee_of, breakout_rooms_build
from tests.factories import AttendeeFactory, ConversationFactory
from tests.helpers import system_messages

ClientFor = Callable[[User], APIClient]


def test_a_single_conversation_sends_the_talk_hash_of_the_room_list(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    client = client_for(student)

    single = client.get(f"{V4}/room/{room.token}")
    listed = client.get(f"{V4}/room")
    AppConfigValue.objects.update_or_create(key="breakout_rooms", defaults={"value": "no"})
    changed = client.get(f"{V4}/room/{room.token}")

    assert len(single["X-Nextcloud-Talk-Hash"]) == 40
    assert single["X-Nextcloud-Talk-Hash"] == listed["X-Nextcloud-Talk-Hash"]
    assert changed["X-Nextcloud-Talk-Hash"] != single["X-Nextcloud-Talk-Hash"]


# --- favorites and notification levels (the caller's own row) ----------------------------------


def test_favorite_and_unfavorite_answer_the_conversation(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    client = client_for(student)

    added = client.post(f"{V4}/room/{room.token}/favorite")
    stored = attendee_of(room, student).favorite
    removed = client.delete(f"{V4}/room/{room.token}/favorite")

    assert (added.status_code, ocs_data(added)["isFavorite"], stored) == (200, True, True)
    assert (removed.status_code, ocs_data(removed)["isFavorite"]) == (200, False)
    assert attendee_of(room, student).favorite is False


@pytest.mark.parametrize(
    ("path", "field", "key"),
    [
        ("favorite", None, None),
        ("notify", "level", "notificationLevel"),
        ("notify-calls", "level", "notificationCalls"),
    ],
)
def test_own_settings_answer_outsiders_404_and_anonymous_callers_401(
    client_for: ClientFor,
    anonymous_client: APIClient,
    room: Conversation,
    outsider: User,
    path: str,
    field: Any,
    key: Any,
) -> None:
    url = f"{V4}/room/{room.token}/{path}"

    assert client_for(outsider).post(url, {"level": 1}).status_code == 404
    assert anonymous_client.post(url, {"level": 1}).status_code == 401


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_the_notification_level_is_set(client_for: ClientFor, room: Conversation, student: User, level: int) -> None:
    response = client_for(student).post(f"{V4}/room/{room.token}/notify", {"level": level}, format="json")

    assert (response.status_code, ocs_data(response)["notificationLevel"]) == (200, level)
    assert attendee_of(room, student).notification_level == level


@pytest.mark.parametrize(("path", "level"), [("notify", 4), ("notify", -1), ("notify", "x"), ("notify-calls", 2)])
def test_a_bad_level_is_400_with_level(
    client_for: ClientFor, room: Conversation, student: User, path: str, level: Any
) -> None:
    response = client_for(student).post(f"{V4}/room/{room.token}/{path}", {"level": level}, format="json")

    assert (response.status_code, ocs_error(response)) == (400, "level")


def test_call_notifications_are_switched_off_and_on(client_for: ClientFor, room: Conversation, student: User) -> None:
    client = client_for(student)

    off = ocs_data(client.post(f"{V4}/room/{room.token}/notify-calls", {"level": 0}, format="json"))
    stored = attendee_of(room, student).notification_calls
    on = ocs_data(client.post(f"{V4}/room/{room.token}/notify-calls", {"level": 1}, format="json"))

    assert (off["notificationCalls"], stored, on["notificationCalls"]) == (0, 0, 1)


# --- read-only ----------------------------------------------------------------------------------


def test_moderators_lock_and_unlock_the_chat(
    client_for: ClientFor, room: Conversation, moderator: User, student: User
) -> None:
    locked = client_for(moderator).put(f"{V4}/room/{room.token}/read-only", {"state": 1}, format="json")
    refused_post = client_for(student).post(f"{V1}/chat/{room.token}", {"message": "hi"}, format="json")
    unlocked = client_for(moderator).put(f"{V4}/room/{room.token}/read-only", {"state": 0}, format="json")
    allowed_post = client_for(student).post(f"{V1}/chat/{room.token}", {"message": "hi"}, format="json")

    assert (locked.status_code, ocs_data(locked)["readOnly"]) == (200, 1)
    assert (refused_post.status_code, allowed_post.status_code) == (403, 201)
    assert ocs_data(unlocked)["readOnly"] == 0
    assert system_messages(room) == ["read_only", "read_only_off"]


def test_setting_the_same_read_only_state_posts_nothing(client_for: ClientFor, room: Conversation, owner: User) -> None:
    response = client_for(owner).put(f"{V4}/room/{room.token}/read-only", {"state": 0}, format="json")

    assert response.status_code == 200
    assert system_messages(room) == []


def test_read_only_is_for_moderators_in_group_and_public_rooms(
    client_for: ClientFor, room: Conversation, student: User, owner: User, outsider: User
) -> None:
    one_to_one = ConversationFactory(type=Conversation.Type.ONE_TO_ONE, name="owner,student")
    AttendeeFactory(room=one_to_one, user=owner, participant_type=Attendee.ParticipantType.OWNER)

    student_response = client_for(student).put(f"{V4}/room/{room.token}/read-only", {"state": 1}, format="json")
    outsider_response = client_for(outsider).put(f"{V4}/room/{room.token}/read-only", {"state": 1}, format="json")
    bad_state = client_for(owner).put(f"{V4}/room/{room.token}/read-only", {"state": 2}, format="json")
    missing = client_for(owner).put(f"{V4}/room/{room.token}/read-only", {}, format="json")
    wrong_type = client_for(owner).put(f"{V4}/room/{one_to_one.token}/read-only", {"state": 1}, format="json")

    assert (student_response.status_code, outsider_response.status_code) == (403, 404)
    assert (bad_state.status_code, ocs_error(bad_state)) == (400, "value")
    assert (missing.status_code, ocs_error(missing)) == (400, "state")
    assert (wrong_type.status_code, ocs_error(wrong_type)) == (400, "type")
    assert Conversation.objects.get(pk=room.pk).read_only == 0


# --- permissions --------------------------------------------------------------------------------


def test_default_permissions_are_set_with_the_custom_bit_and_reset_attendee_permissions(
    client_for: ClientFor, room: Conversation, owner: User, student: User
) -> None:
    Attendee.objects.filter(room=room, user=student).update(permissions=255)

    response = client_for(owner).put(f"{V4}/room/{room.token}/permissions/default", {"permissions": 4}, format="json")

    assert response.status_code == 200
    assert ocs_data(response)["defaultPermissions"] == 5
    assert Conversation.objects.get(pk=room.pk).default_permissions == 5
    assert attendee_of(room, student).permissions == 0
    posted = client_for(student).post(f"{V1}/chat/{room.token}", {"message": "hi"}, format="json")
    assert posted.status_code == 403  # 5 = custom + join call: no chat


def test_default_permissions_zero_means_talks_defaults(client_for: ClientFor, room: Conversation, owner: User) -> None:
    response = client_for(owner).put(f"{V4}/room/{room.token}/permissions/default", {"permissions": 0}, format="json")

    assert ocs_data(response)["defaultPermissions"] == 0


@pytest.mark.parametrize(
    ("mode", "body", "key"),
    [
        ("call", {"permissions": 4}, "mode"),
        ("default", {"permissions": 256}, "permissions"),
        ("default", {}, "permissions"),
    ],
)
def test_bad_default_permissions_are_400(
    client_for: ClientFor, room: Conversation, owner: User, mode: str, body: dict, key: str
) -> None:
    response = client_for(owner).put(f"{V4}/room/{room.token}/permissions/{mode}", body, format="json")

    assert (response.status_code, ocs_error(response)) == (400, key)


def test_default_permissions_are_refused_in_breakout_rooms_and_to_students(
    client_for: ClientFor, room: Conversation, owner: User, student: User
) -> None:
    breakout = breakout_rooms_build(room, count=1)[0]

    in_breakout = client_for(owner).put(
        f"{V4}/room/{breakout.token}/permissions/default", {"permissions": 4}, format="json"
    )
    by_student = client_for(student).put(
        f"{V4}/room/{room.token}/permissions/default", {"permissions": 4}, format="json"
    )

    assert (in_breakout.status_code, ocs_error(in_breakout)) == (400, "breakout-room")
    assert by_student.status_code == 403


def attendee_permissions(client: APIClient, room: Conversation, **body: Any) -> Any:
    return client.put(f"{V4}/room/{room.token}/attendees/permissions", body, format="json")


def test_attendee_permissions_set_add_and_remove(
    client_for: ClientFor, room: Conversation, owner: User, student: User
) -> None:
    target = attendee_of(room, student).pk
    client = client_for(owner)

    set_ = attendee_permissions(client, room, attendeeId=target, method="set", permissions=128)
    added = attendee_permissions(client, room, attendeeId=target, method="add", permissions=4)
    removed = attendee_permissions(client, room, attendeeId=target, method="remove", permissions=128)

    assert set_.status_code == 200
    assert [(p["attendeeId"], p["attendeePermissions"]) for p in ocs_data(set_)] == [(target, 129)]
    assert ocs_data(added)[0]["attendeePermissions"] == 133
    assert ocs_data(removed)[0]["attendeePermissions"] == 5
    assert attendee_of(room, student).permissions == 5
    assert client_for(student).post(f"{V1}/chat/{room.token}", {"message": "hi"}, format="json").status_code == 403


def test_attendee_permissions_errors(
    client_for: ClientFor, room: Conversation, owner: User, moderator: User, student: User
) -> None:
    client = client_for(owner)
    target = attendee_of(room, student).pk

    unknown = attendee_permissions(client, room, attendeeId=999999, method="set", permissions=4)
    bad_method = attendee_permissions(client, room, attendeeId=target, method="toggle", permissions=4)
    of_moderator = attendee_permissions(client, room, attendeeId=attendee_of(room, moderator).pk, permissions=4)
    too_big = attendee_permissions(client, room, attendeeId=target, permissions=256)
    by_student = attendee_permissions(client_for(student), room, attendeeId=target, permissions=4)

    assert (unknown.status_code, ocs_error(unknown)) == (404, "participant")
    assert (bad_method.status_code, ocs_error(bad_method)) == (400, "method")
    assert (of_moderator.status_code, ocs_error(of_moderator)) == (403, "moderator")
    assert (too_big.status_code, ocs_error(too_big)) == (400, "permissions")
    assert by_student.status_code == 403
    assert attendee_of(room, student).permissions == 0


def test_attendee_permissions_answer_outsiders_404(
    client_for: ClientFor, room: Conversation, outsider: User, student: User
) -> None:
    response = attendee_permissions(client_for(outsider), room, attendeeId=attendee_of(room, student).pk, permissions=4)

    assert response.status_code == 404
