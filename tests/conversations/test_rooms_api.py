"""The v4 room endpoints: list, create, get, rename, description, delete and the room settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AppConfigValue, User
from conversations.models import Attendee, ChatMessage, Conversation
from tests.conversations.helpers import room_of
from tests.factories import AttendeeFactory, ChatMessageFactory, ConversationFactory, UserFactory
from tests.helpers import V1, V4, ocs_data, ocs_error, system_messages

ClientFor = Callable[[User], APIClient]

# Contract 3.2 / 1.13: every key of the full room object and its JSON type.
ROOM_KEY_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": int,
    "token": str,
    "type": int,
    "name": str,
    "displayName": str,
    "description": str,
    "objectType": str,
    "objectId": str,
    "participantType": int,
    "attendeeId": int,
    "attendeePin": str,
    "actorType": str,
    "actorId": str,
    "permissions": int,
    "attendeePermissions": int,
    "callPermissions": int,
    "defaultPermissions": int,
    "participantFlags": int,
    "readOnly": int,
    "listable": int,
    "messageExpiration": int,
    "lastPing": int,
    "sessionId": str,
    "hasPassword": bool,
    "hasCall": bool,
    "callFlag": int,
    "callStartTime": int,
    "callRecording": int,
    "recordingConsent": int,
    "canStartCall": bool,
    "canDeleteConversation": bool,
    "canLeaveConversation": bool,
    "canEnableSIP": bool,
    "sipEnabled": int,
    "lastActivity": int,
    "isFavorite": bool,
    "notificationLevel": int,
    "notificationCalls": int,
    "lobbyState": int,
    "lobbyTimer": int,
    "unreadMessages": int,
    "unreadMention": bool,
    "unreadMentionDirect": bool,
    "lastReadMessage": int,
    "lastCommonReadMessage": int,
    "lastMessage": (dict, list),
    "avatarVersion": str,
    "isCustomAvatar": bool,
    "breakoutRoomMode": int,
    "breakoutRoomStatus": int,
    "breakoutRoomEndsAt": int,  # extension breakout-rooms-timer (0: no timer)
    "mentionPermissions": int,
    "isArchived": bool,
    "isImportant": bool,
    "isSensitive": bool,
    "liveTranscriptionLanguageId": str,
}

# Every endpoint on one conversation: (method, path after the token, moderators only).
ROOM_ENDPOINTS = [
    ("get", "", False),
    ("put", "", True),
    ("delete", "", True),
    ("put", "/description", True),
    ("get", "/participants", False),
    ("post", "/participants", True),
    ("delete", "/attendees", True),
    ("delete", "/participants/self", False),
    ("post", "/moderators", True),
    ("delete", "/moderators", True),
    ("put", "/webinar/lobby", True),
    ("put", "/listable", True),
    ("post", "/public", True),
    ("delete", "/public", True),
    ("put", "/password", True),
    ("post", "/message-expiration", True),
]


def room_url(room: Conversation, suffix: str = "") -> str:
    return f"{V4}/room/{room.token}{suffix}"


# --- access checks of every room endpoint ------------------------------------------------------


@pytest.mark.parametrize(("method", "suffix", "moderator_only"), ROOM_ENDPOINTS)
def test_every_room_endpoint_answers_401_to_an_anonymous_caller(
    anonymous_client: APIClient, room: Conversation, method: str, suffix: str, moderator_only: bool
) -> None:
    response = getattr(anonymous_client, method)(room_url(room, suffix))

    assert response.status_code == 401
    assert response.json()["ocs"]["meta"]["statuscode"] == 997


@pytest.mark.parametrize(("method", "suffix", "moderator_only"), ROOM_ENDPOINTS)
def test_every_room_endpoint_answers_an_outsider_exactly_like_an_unknown_token(
    client_for: ClientFor, room: Conversation, outsider: User, method: str, suffix: str, moderator_only: bool
) -> None:
    client = client_for(outsider)

    outsider_response = getattr(client, method)(room_url(room, suffix))
    unknown_response = getattr(client, method)(f"{V4}/room/unknowntoken{suffix}")

    assert outsider_response.status_code == 404
    assert outsider_response.json() == unknown_response.json()
    assert Conversation.objects.filter(pk=room.pk).exists()


@pytest.mark.parametrize(
    ("method", "suffix"), [(method, suffix) for method, suffix, moderator_only in ROOM_ENDPOINTS if moderator_only]
)
def test_moderator_endpoints_refuse_a_student_with_403(
    client_for: ClientFor, room: Conversation, student: User, method: str, suffix: str
) -> None:
    before = (Conversation.objects.get(pk=room.pk).name, Attendee.objects.filter(room=room).count())

    response = getattr(client_for(student), method)(room_url(room, suffix), {"roomName": "x", "attendeeId": 1})

    assert response.status_code == 403
    assert ocs_data(response) == []
    assert (Conversation.objects.get(pk=room.pk).name, Attendee.objects.filter(room=room).count()) == before


# --- GET /v4/room -------------------------------------------------------------------------------


def test_room_list_returns_every_key_of_the_room_object_with_its_json_type(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    response = client_for(owner).get(f"{V4}/room")

    (payload,) = ocs_data(response)
    assert set(payload) == set(ROOM_KEY_TYPES)
    for key, expected_type in ROOM_KEY_TYPES.items():
        assert isinstance(payload[key], expected_type), key
        if expected_type is int:
            assert not isinstance(payload[key], bool), key
    owner_attendee = Attendee.objects.get(room=room, user=owner)
    expected_values = {
        "id": room.pk,
        "token": room.token,
        "type": 2,
        "name": "Class",
        "displayName": "Class",
        "objectType": "",
        "objectId": "",
        "participantType": 1,
        "attendeeId": owner_attendee.pk,
        "actorType": "users",
        "actorId": "owner",
        "lobbyState": 0,
        "breakoutRoomMode": 0,
        "breakoutRoomStatus": 0,
        "canDeleteConversation": True,
        "hasPassword": False,
        "lastMessage": [],
    }
    assert {key: payload[key] for key in expected_values} == expected_values


def test_room_list_is_in_ascending_id_order_and_only_holds_the_callers_rooms(
    client_for: ClientFor, student: User, outsider: User
) -> None:
    rooms = [ConversationFactory() for _ in range(4)]
    for room in reversed(rooms[:3]):
        AttendeeFactory(room=room, user=student)
    AttendeeFactory(room=rooms[3], user=outsider)

    response = client_for(student).get(f"{V4}/room")

    assert [payload["id"] for payload in ocs_data(response)] == [room.pk for room in rooms[:3]]


def test_room_list_with_modified_since_keeps_only_rooms_active_since_then(client_for: ClientFor, student: User) -> None:
    now = timezone.now()
    old = ConversationFactory(last_activity=now - timedelta(days=2))
    recent = ConversationFactory(last_activity=now - timedelta(minutes=5))
    for room in (old, recent):
        AttendeeFactory(room=room, user=student)
    since = int((now - timedelta(hours=1)).timestamp())

    response = client_for(student).get(f"{V4}/room", {"modifiedSince": since})

    assert [payload["token"] for payload in ocs_data(response)] == [recent.token]


@pytest.mark.parametrize("value", ["yesterday", str(10**17)])
def test_room_list_rejects_a_modified_since_that_is_no_timestamp(
    client_for: ClientFor, room: Conversation, student: User, value: str
) -> None:
    response = client_for(student).get(f"{V4}/room", {"modifiedSince": value})

    assert response.status_code == 400
    assert ocs_error(response) == "modifiedSince"


def test_room_list_sends_the_talk_hash_which_follows_the_breakout_rooms_switch(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    client = client_for(student)
    before = int(timezone.now().timestamp())

    first = client.get(f"{V4}/room")
    AppConfigValue.objects.update_or_create(key="breakout_rooms", defaults={"value": "no"})
    second = client.get(f"{V4}/room")

    assert len(first["X-Nextcloud-Talk-Hash"]) == 40
    assert first["X-Nextcloud-Talk-Hash"] != second["X-Nextcloud-Talk-Hash"]
    assert before <= int(first["X-Nextcloud-Talk-Modified-Before"]) <= int(timezone.now().timestamp())


@pytest.mark.parametrize("count", [3, 40])
def test_room_list_query_count_does_not_grow_with_the_number_of_rooms(
    client_for: ClientFor, student: User, owner: User, count: int, django_assert_num_queries: Any
) -> None:
    for _ in range(count):
        room = ConversationFactory()
        AttendeeFactory(room=room, user=student)
        AttendeeFactory(room=room, user=owner, participant_type=Attendee.ParticipantType.OWNER)
        ChatMessageFactory(room=room)
    client = client_for(student)

    # 1 the caller's attendee rows with rooms, parents, last messages and the per-caller values
    #   (unread count, last common read, one-to-one partner); 2 the app config value hashed into
    #   X-Nextcloud-Talk-Hash.
    with django_assert_num_queries(2):
        response = client.get(f"{V4}/room")

    assert len(ocs_data(response)) == count


@pytest.mark.parametrize("count", [3, 40])
def test_one_room_takes_a_constant_number_of_queries(
    client_for: ClientFor, student: User, owner: User, count: int, django_assert_num_queries: Any
) -> None:
    room = ConversationFactory()
    AttendeeFactory(room=room, user=student)
    AttendeeFactory(room=room, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    for other in UserFactory.create_batch(count):
        AttendeeFactory(room=room, user=other)
    ChatMessageFactory.create_batch(count, room=room)
    client = client_for(student)

    # 1 the caller's attendee row with the room, its last message and the per-caller values (the
    #   access check and the payload in one); 2 the app config value of X-Nextcloud-Talk-Hash.
    with django_assert_num_queries(2):
        response = client.get(f"{V4}/room/{room.token}")

    data = ocs_data(response)
    assert data["token"] == room.token
    assert data["lastMessage"]["id"] == ChatMessage.objects.filter(room=room).latest("id").pk


def test_one_room_shows_a_write_at_the_next_read(client_for: ClientFor, student: User, owner: User) -> None:
    room = ConversationFactory()
    AttendeeFactory(room=room, user=student)
    AttendeeFactory(room=room, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    client = client_for(student)
    first = ocs_data(client.get(f"{V4}/room/{room.token}"))

    message = ChatMessageFactory(room=room, actor_id=owner.username)
    Conversation.objects.filter(pk=room.pk).update(name="Renamed")
    second = ocs_data(client.get(f"{V4}/room/{room.token}"))

    assert first["lastMessage"] == []
    assert (second["name"], second["lastMessage"]["id"], second["unreadMessages"]) == ("Renamed", message.pk, 1)


# --- POST /v4/room ------------------------------------------------------------------------------


def test_create_group_room_makes_the_creator_owner_and_posts_conversation_created(
    client_for: ClientFor, owner: User
) -> None:
    response = client_for(owner).post(f"{V4}/room", {"roomType": 2, "roomName": "  Maths  "})

    assert response.status_code == 201
    room = room_of(ocs_data(response)["token"])
    assert (room.type, room.name) == (2, "Maths")
    assert list(Attendee.objects.filter(room=room).values_list("actor_id", "participant_type")) == [("owner", 1)]
    assert system_messages(room) == ["conversation_created"]
    assert ocs_data(response)["participantType"] == 1


def test_create_public_room_with_an_invited_user(client_for: ClientFor, owner: User, student: User) -> None:
    response = client_for(owner).post(
        f"{V4}/room", {"roomType": 3, "roomName": "Open", "invite": "student", "source": "users"}, format="json"
    )

    assert response.status_code == 201
    room = room_of(ocs_data(response)["token"])
    assert room.type == 3
    assert list(Attendee.objects.filter(room=room).order_by("id").values_list("actor_id", "participant_type")) == [
        ("owner", 1),
        ("student", 3),
    ]
    assert system_messages(room) == ["conversation_created", "user_added"]


def test_create_group_room_from_a_group_adds_every_member(client_for: ClientFor, owner: User) -> None:
    members = [UserFactory(username=f"member{i}") for i in range(3)]
    group = Group.objects.create(name="class-a")
    group.user_set.add(*members, owner)

    response = client_for(owner).post(
        f"{V4}/room", {"roomType": 2, "roomName": "A", "invite": "class-a", "source": "groups"}
    )

    assert response.status_code == 201
    room = room_of(ocs_data(response)["token"])
    assert sorted(Attendee.objects.filter(room=room).values_list("actor_id", "participant_type")) == [
        ("member0", 3),
        ("member1", 3),
        ("member2", 3),
        ("owner", 1),
    ]


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"roomName": "x"}, "type"),
        ({"roomType": "two", "roomName": "x"}, "type"),
        ({"roomType": 4, "roomName": "x"}, "type"),
        ({"roomType": 0, "roomName": "x"}, "type"),
        ({"roomType": 2}, "name"),
        ({"roomType": 2, "roomName": "   "}, "name"),
        ({"roomType": 2, "roomName": "n" * 256}, "name"),
        ({"roomType": 2, "roomName": "x", "invite": "nobody"}, "invite"),
        ({"roomType": 2, "roomName": "x", "invite": "nogroup", "source": "groups"}, "invite"),
        ({"roomType": 2, "roomName": "x", "invite": "student", "source": "emails"}, "source"),
        ({"roomType": 1, "invite": "nobody"}, "invite"),
        ({"roomType": 1}, "invite"),
        ({"roomType": 1, "invite": "owner"}, "invite"),
        ({"roomType": 2, "roomName": "x", "objectType": "files", "objectId": "abc"}, "object"),
    ],
)
def test_create_room_rejects_bad_input_with_its_error_key(
    client_for: ClientFor, owner: User, student: User, params: dict[str, Any], key: str
) -> None:
    response = client_for(owner).post(f"{V4}/room", params, format="json")

    assert response.status_code == 400
    assert ocs_error(response) == key
    assert not Conversation.objects.exists()


def test_create_one_to_one_names_it_after_the_sorted_pair_and_makes_both_owners(
    client_for: ClientFor, student: User, owner: User
) -> None:
    response = client_for(student).post(f"{V4}/room", {"roomType": 1, "invite": "owner"})

    assert response.status_code == 201
    data = ocs_data(response)
    room = room_of(data["token"])
    assert (room.type, room.name) == (1, '["owner","student"]')
    assert json.loads(room.name) == ["owner", "student"]
    assert sorted(Attendee.objects.filter(room=room).values_list("actor_id", "participant_type")) == [
        ("owner", 1),
        ("student", 1),
    ]
    assert data["displayName"] == "Owner Person"
    assert data["canDeleteConversation"] is False
    assert system_messages(room) == ["conversation_created"]


def test_create_one_to_one_again_from_either_side_returns_the_existing_room_with_200(
    client_for: ClientFor, student: User, owner: User
) -> None:
    first = client_for(student).post(f"{V4}/room", {"roomType": 1, "invite": "owner"})

    again = client_for(owner).post(f"{V4}/room", {"roomType": 1, "invite": "student"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert ocs_data(again)["token"] == ocs_data(first)["token"]
    assert ocs_data(again)["displayName"] == "Student Person"
    assert Conversation.objects.filter(type=1).count() == 1


def test_create_room_requires_authentication(anonymous_client: APIClient, db: None) -> None:
    response = anonymous_client.post(f"{V4}/room", {"roomType": 2, "roomName": "x"})

    assert response.status_code == 401


# --- GET/PUT/DELETE /v4/room/{token} ------------------------------------------------------------


def test_get_room_returns_it_formatted_for_the_caller(client_for: ClientFor, room: Conversation, student: User) -> None:
    response = client_for(student).get(room_url(room))

    assert response.status_code == 200
    data = ocs_data(response)
    assert (data["token"], data["participantType"], data["actorId"]) == (room.token, 3, "student")
    assert data["attendeeId"] == Attendee.objects.get(room=room, user=student).pk


def test_rename_changes_the_name_and_posts_conversation_renamed(
    client_for: ClientFor, room: Conversation, moderator: User
) -> None:
    response = client_for(moderator).put(room_url(room), {"roomName": "Physics"})

    assert response.status_code == 200
    assert Conversation.objects.get(pk=room.pk).name == "Physics"
    message = ChatMessage.objects.filter(room=room).last()
    assert message.system_message == "conversation_renamed"
    chat = ocs_data(client_for(moderator).get(f"{V1}/chat/{room.token}"))
    assert chat[0]["message"] == 'You renamed the conversation from "Class" to "Physics"'


@pytest.mark.parametrize(
    ("params", "key"), [({}, "name"), ({"roomName": ""}, "name"), ({"roomName": "n" * 256}, "name")]
)
def test_rename_rejects_bad_names(
    client_for: ClientFor, room: Conversation, owner: User, params: dict[str, str], key: str
) -> None:
    response = client_for(owner).put(room_url(room), params)

    assert response.status_code == 400
    assert ocs_error(response) == key
    assert Conversation.objects.get(pk=room.pk).name == "Class"


def test_rename_refuses_a_one_to_one_conversation(client_for: ClientFor, owner: User, student: User) -> None:
    token = ocs_data(client_for(owner).post(f"{V4}/room", {"roomType": 1, "invite": "student"}))["token"]

    response = client_for(owner).put(f"{V4}/room/{token}", {"roomName": "Ours"})

    assert response.status_code == 400
    assert ocs_error(response) == "type"


def test_set_description_and_remove_it(client_for: ClientFor, room: Conversation, owner: User) -> None:
    client = client_for(owner)

    set_response = client.put(room_url(room, "/description"), {"description": "Week 1"})
    stored = Conversation.objects.get(pk=room.pk).description
    remove_response = client.put(room_url(room, "/description"), {"description": ""})

    assert (set_response.status_code, remove_response.status_code) == (200, 200)
    assert stored == "Week 1"
    assert Conversation.objects.get(pk=room.pk).description == ""
    assert system_messages(room)[-2:] == ["description_set", "description_removed"]


def test_description_longer_than_2000_characters_is_rejected(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    ok = client_for(owner).put(room_url(room, "/description"), {"description": "d" * 2000})
    too_long = client_for(owner).put(room_url(room, "/description"), {"description": "e" * 2001})

    assert ok.status_code == 200
    assert too_long.status_code == 400
    assert ocs_error(too_long) == "description"
    assert Conversation.objects.get(pk=room.pk).description == "d" * 2000


def test_delete_room_deletes_it_with_attendees_and_chat(client_for: ClientFor, room: Conversation, owner: User) -> None:
    ChatMessageFactory(room=room)

    response = client_for(owner).delete(room_url(room))

    assert response.status_code == 200
    assert not Conversation.objects.filter(pk=room.pk).exists()
    assert not Attendee.objects.filter(room_id=room.pk).exists()
    assert not ChatMessage.objects.filter(room_id=room.pk).exists()


def test_delete_refuses_a_one_to_one_conversation(client_for: ClientFor, owner: User, student: User) -> None:
    token = ocs_data(client_for(owner).post(f"{V4}/room", {"roomType": 1, "invite": "student"}))["token"]

    response = client_for(owner).delete(f"{V4}/room/{token}")

    assert response.status_code == 400
    assert ocs_error(response) == "type"
    assert Conversation.objects.filter(token=token).exists()


# --- settings: lobby, listable, public, password, message expiration ---------------------------


def test_lobby_on_holds_students_back_and_posts_the_lobby_messages(
    client_for: ClientFor, room: Conversation, owner: User, student: User
) -> None:
    timer = int((timezone.now() + timedelta(hours=1)).timestamp())

    on = client_for(owner).put(room_url(room, "/webinar/lobby"), {"state": 1, "timer": timer})
    held = client_for(student).get(room_url(room, "/participants"))
    off = client_for(owner).put(room_url(room, "/webinar/lobby"), {"state": 0})

    assert on.status_code == 200
    assert (ocs_data(on)["lobbyState"], ocs_data(on)["lobbyTimer"]) == (1, timer)
    assert held.status_code == 412
    assert off.status_code == 200
    assert Conversation.objects.get(pk=room.pk).lobby_state == 0
    assert system_messages(room)[-2:] == ["lobby_non_moderators", "lobby_none"]


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({}, "state"),
        ({"state": 2}, "state"),
        ({"state": "on"}, "state"),
        ({"state": 1, "timer": "soon"}, "timer"),
        ({"state": 1, "timer": -5}, "timer"),
        ({"state": 1, "timer": 10**17}, "timer"),
    ],
)
def test_lobby_rejects_bad_input(
    client_for: ClientFor, room: Conversation, owner: User, params: dict[str, Any], key: str
) -> None:
    response = client_for(owner).put(room_url(room, "/webinar/lobby"), params)

    assert response.status_code == 400
    assert ocs_error(response) == key
    assert Conversation.objects.get(pk=room.pk).lobby_state == 0


def test_listable_scope_is_stored_and_announced(client_for: ClientFor, room: Conversation, owner: User) -> None:
    response = client_for(owner).put(room_url(room, "/listable"), {"scope": 2})

    assert response.status_code == 200
    assert ocs_data(response)["listable"] == 2
    assert Conversation.objects.get(pk=room.pk).listable == 2
    assert system_messages(room)[-1] == "listable_all"


@pytest.mark.parametrize("scope", [3, -1, "all", None])
def test_listable_rejects_an_invalid_scope(client_for: ClientFor, room: Conversation, owner: User, scope: Any) -> None:
    response = client_for(owner).put(room_url(room, "/listable"), {} if scope is None else {"scope": scope})

    assert response.status_code == 400
    assert ocs_error(response) == "scope"


def test_make_public_and_private_again(client_for: ClientFor, room: Conversation, owner: User) -> None:
    client = client_for(owner)

    public = client.post(room_url(room, "/public"))
    public_type = Conversation.objects.get(pk=room.pk).type
    private = client.delete(room_url(room, "/public"))

    assert (public.status_code, private.status_code) == (200, 200)
    assert (public_type, ocs_data(public)["type"]) == (3, 3)
    assert Conversation.objects.get(pk=room.pk).type == 2
    assert system_messages(room)[-2:] == ["guests_allowed", "guests_disallowed"]


def test_making_a_private_room_private_is_a_no_op(client_for: ClientFor, room: Conversation, owner: User) -> None:
    response = client_for(owner).delete(room_url(room, "/public"))

    assert response.status_code == 200
    assert system_messages(room) == []


def test_password_of_a_public_room_is_stored_hashed_and_can_be_removed(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    Conversation.objects.filter(pk=room.pk).update(type=Conversation.Type.PUBLIC)

    set_response = client_for(owner).put(room_url(room, "/password"), {"password": "s3cret"})
    stored = Conversation.objects.get(pk=room.pk).password
    removed = client_for(owner).put(room_url(room, "/password"), {"password": ""})

    assert (set_response.status_code, removed.status_code) == (200, 200)
    assert stored != "s3cret" and check_password("s3cret", stored)
    assert Conversation.objects.get(pk=room.pk).password == ""
    assert system_messages(room)[-2:] == ["password_set", "password_removed"]


def test_password_on_a_group_room_is_refused_with_type(client_for: ClientFor, room: Conversation, owner: User) -> None:
    response = client_for(owner).put(room_url(room, "/password"), {"password": "s3cret"})

    assert response.status_code == 400
    assert ocs_error(response) == "type"
    assert Conversation.objects.get(pk=room.pk).password == ""


def test_message_expiration_is_stored_and_applied_to_new_messages(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    response = client_for(owner).post(room_url(room, "/message-expiration"), {"seconds": 3600})
    posted = client_for(owner).post(f"{V1}/chat/{room.token}", {"message": "short-lived"})

    assert response.status_code == 200
    assert Conversation.objects.get(pk=room.pk).message_expiration == 3600
    assert ocs_data(posted)["expirationTimestamp"] >= int(timezone.now().timestamp()) + 3590
    chat = ocs_data(client_for(owner).get(f"{V1}/chat/{room.token}"))
    assert chat[1]["message"] == "You set the message expiration to 3600 seconds"


@pytest.mark.parametrize("seconds", [-1, 2**31, "soon", None])
def test_message_expiration_rejects_bad_seconds(
    client_for: ClientFor, room: Conversation, owner: User, seconds: Any
) -> None:
    params = {} if seconds is None else {"seconds": seconds}

    response = client_for(owner).post(room_url(room, "/message-expiration"), params)

    assert response.status_code == 400
    assert ocs_error(response) == "seconds"
    assert Conversation.objects.get(pk=room.pk).message_expiration == 0


HUGE = "999999999999999999"


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("get", "/room", {"modifiedSince": HUGE}),
        ("get", "/room", {"modifiedSince": "-" + HUGE}),
        ("put", "/room/{token}/webinar/lobby", {"state": 1, "timer": HUGE}),
        ("post", "/room/{token}/message-expiration", {"seconds": HUGE}),
        ("delete", "/room/{token}/attendees", {"attendeeId": HUGE}),
        ("post", "/room/{token}/moderators", {"attendeeId": HUGE}),
        ("delete", "/room/{token}/moderators", {"attendeeId": "-" + HUGE}),
        ("put", "/room/{token}/listable", {"scope": HUGE}),
        ("post", "/room", {"roomType": HUGE, "roomName": "x"}),
        ("post", "chat", {"message": "hi", "replyTo": HUGE}),
        ("get", "chat", {"lastKnownMessageId": HUGE, "lookIntoFuture": 1}),
        ("get", "chat", {"limit": HUGE}),
    ],
)
def test_huge_integers_never_cause_a_server_error(
    client_for: ClientFor, room: Conversation, owner: User, method: str, path: str, params: dict[str, str]
) -> None:
    target = f"{V1}/chat/{room.token}" if path == "chat" else V4 + path.format(token=room.token)

    response = getattr(client_for(owner), method)(target, params)

    assert response.status_code < 500


@pytest.mark.parametrize(
    ("method", "path", "params", "key"),
    [
        ("post", "/room", {"roomType": 2, "roomName": "a\x00b"}, "name"),
        ("post", "/room", {"roomType": 1, "invite": "a\x00b"}, "invite"),
        ("put", "/room/{token}", {"roomName": "a\x00b"}, "name"),
        ("put", "/room/{token}/description", {"description": "a\x00b"}, "description"),
        ("post", "/room/{token}/participants", {"newParticipant": "a\x00b"}, "new-participant"),
        ("post", "chat", {"message": "a\x00b"}, "message"),
        ("post", "chat", {"message": "ab", "referenceId": "a\x00b"}, "referenceId"),
    ],
)
def test_nul_characters_are_refused_with_the_parameters_key(
    client_for: ClientFor, room: Conversation, owner: User, method: str, path: str, params: dict[str, Any], key: str
) -> None:
    target = f"{V1}/chat/{room.token}" if path == "chat" else V4 + path.format(token=room.token)

    response = getattr(client_for(owner), method)(target, params, format="json")

    assert response.status_code == 400
    assert ocs_error(response) == key


def test_a_lobby_whose_timer_passed_opens_when_the_room_is_loaded(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    Conversation.objects.filter(pk=room.pk).update(
        lobby_state=Conversation.Lobby.NON_MODERATORS, lobby_timer=timezone.now() - timedelta(minutes=1)
    )

    response = client_for(student).get(f"{V1}/chat/{room.token}")

    assert response.status_code == 200
    stored = Conversation.objects.get(pk=room.pk)
    assert (stored.lobby_state, stored.lobby_timer) == (0, None)
    assert ocs_data(response)[0]["systemMessage"] == "lobby_timer_reached"
    assert ocs_data(response)[0]["message"] == "The conversation is now open to everyone"


def test_the_room_list_opens_lobbies_whose_timer_passed_and_only_those(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    later = ConversationFactory(lobby_state=1, lobby_timer=timezone.now() + timedelta(hours=1))
    AttendeeFactory(room=later, user=student)
    Conversation.objects.filter(pk=room.pk).update(lobby_state=1, lobby_timer=timezone.now() - timedelta(seconds=5))

    response = client_for(student).get(f"{V4}/room")

    assert [(r["token"], r["lobbyState"]) for r in ocs_data(response)] == [(room.token, 0), (later.token, 1)]
    assert system_messages(room) == ["lobby_timer_reached"]
    assert system_messages(later) == []
