"""POST/DELETE /v1/breakout-rooms/{token}: configure and remove (contract 1.1, 1.2, 4.1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import AppConfigValue, User
from conversations.models import Attendee, ChatMessage, Conversation
from tests.breakout.conftest import add_students, breakout_rooms, members, parent_attendee
from tests.conftest import V1, ocs_data, ocs_error
from tests.factories import AttendeeFactory, ConversationFactory
from tests.helpers import system_messages

Client = Callable[[User], APIClient]


def configure(client: APIClient, token: str, **params: Any) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}", params, format="json")


def assert_unconfigured(parent: Conversation) -> None:
    parent.refresh_from_db()
    assert parent.breakout_room_mode == 0
    assert breakout_rooms(parent) == []


def test_configure_requires_a_login(anonymous_client: APIClient, room: Conversation) -> None:
    response = configure(anonymous_client, room.token, mode=1, amount=2)

    assert response.status_code == 401
    assert response.json()["ocs"]["meta"]["statuscode"] == 997
    assert_unconfigured(room)


def test_configure_answers_an_outsider_like_an_unknown_token(
    client_for: Client, room: Conversation, outsider: User
) -> None:
    response = configure(client_for(outsider), room.token, mode=1, amount=2)
    unknown = configure(client_for(outsider), "unknowntoken", mode=1, amount=2)

    assert response.status_code == unknown.status_code == 404
    assert response.json() == unknown.json()
    assert ocs_data(response) == []
    assert_unconfigured(room)


def test_configure_refuses_a_student_with_403(client_for: Client, room: Conversation, student: User) -> None:
    response = configure(client_for(student), room.token, mode=1, amount=2)

    assert response.status_code == 403
    assert_unconfigured(room)


@pytest.mark.parametrize("token", ["abc", "UPPERCASE", "a" * 31, "bad-token"])
def test_configure_does_not_route_malformed_tokens(client_for: Client, owner: User, token: str, db: None) -> None:
    assert configure(client_for(owner), token, mode=1, amount=2).status_code == 404


def test_configure_refuses_when_breakout_rooms_are_disabled(
    client_for: Client, room: Conversation, owner: User
) -> None:
    AppConfigValue.objects.create(key="breakout_rooms", value="no")

    response = configure(client_for(owner), room.token, mode=7, amount=0)

    assert response.status_code == 400
    assert ocs_error(response) == "config"
    assert_unconfigured(room)


def test_configure_refuses_an_already_configured_parent_with_room(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=1, amount=2)

    response = configure(client_for(owner), room.token, mode=1, amount=3)

    assert response.status_code == 400
    assert ocs_error(response) == "room"
    assert breakout_rooms(room) == rooms


@pytest.mark.parametrize("room_type", [1, 3, 4, 5, 6])
def test_configure_refuses_a_parent_that_is_not_a_group_conversation(
    client_for: Client, owner: User, room_type: int, db: None
) -> None:
    parent = ConversationFactory(type=room_type, name=f"pair{room_type}")
    AttendeeFactory(room=parent, user=owner, participant_type=Attendee.ParticipantType.OWNER)

    response = configure(client_for(owner), parent.token, mode=1, amount=2)

    assert response.status_code == 400
    assert ocs_error(response) == "room"
    assert_unconfigured(parent)


def test_configure_refuses_a_breakout_room_as_parent(
    client_for: Client, owner: User, configured: Callable[..., list]
) -> None:
    breakout = configured(mode=1, amount=1)[0]

    response = configure(client_for(owner), breakout.token, mode=1, amount=2)

    assert response.status_code == 400
    assert ocs_error(response) == "room"
    assert_unconfigured(breakout)


@pytest.mark.parametrize("mode", [None, 0, 4, -1, "3x", "", 1.5, True, "abc", [1], {"a": 1}])
def test_configure_refuses_a_bad_mode_with_mode(client_for: Client, room: Conversation, owner: User, mode: Any) -> None:
    params = {"amount": 2} if mode is None else {"mode": mode, "amount": 2}

    response = configure(client_for(owner), room.token, **params)

    assert response.status_code == 400
    assert ocs_error(response) == "mode"
    assert_unconfigured(room)


def test_configure_checks_room_before_mode(client_for: Client, owner: User, db: None) -> None:
    parent = ConversationFactory(type=Conversation.Type.PUBLIC)
    AttendeeFactory(room=parent, user=owner, participant_type=Attendee.ParticipantType.OWNER)

    response = configure(client_for(owner), parent.token, mode="junk", amount=2)

    assert ocs_error(response) == "room"


@pytest.mark.parametrize("amount", [None, 0, -3, 21, 1000, "2x", 2.5, False, "", [2]])
def test_configure_refuses_a_bad_amount_and_leaves_the_mode_unset(
    client_for: Client, room: Conversation, owner: User, amount: Any
) -> None:
    params = {"mode": 1} if amount is None else {"mode": 1, "amount": amount}

    response = configure(client_for(owner), room.token, **params)

    assert response.status_code == 400
    assert ocs_error(response) == "amount"
    assert_unconfigured(room)


@pytest.mark.parametrize("attendee_map", ['{"1": 2}', '{"0": 0}', "nope", '{"1": {"2": 0}}', "5", 7, {"1": 0}])
def test_configure_manual_refuses_a_bad_attendee_map(
    client_for: Client, room: Conversation, owner: User, attendee_map: Any
) -> None:
    response = configure(client_for(owner), room.token, mode=2, amount=2, attendeeMap=attendee_map)

    assert response.status_code == 400
    assert ocs_error(response) == "attendeeMap"
    assert_unconfigured(room)


def test_configure_ignores_the_attendee_map_outside_manual_mode(
    client_for: Client, room: Conversation, owner: User
) -> None:
    response = configure(client_for(owner), room.token, mode=3, amount=2, attendeeMap="garbage")

    assert response.status_code == 200
    assert len(breakout_rooms(room)) == 2


@pytest.mark.parametrize("encoding", ["json", "form", "query"])
def test_configure_reads_parameters_from_json_form_or_query(
    client_for: Client, room: Conversation, owner: User, encoding: str
) -> None:
    client = client_for(owner)
    url = f"{V1}/breakout-rooms/{room.token}"
    params = {"mode": "3", "amount": "2"}
    if encoding == "json":
        response = client.post(url, params, format="json")
    elif encoding == "form":
        response = client.post(url, params)
    else:
        response = client.post(f"{url}?mode=3&amount=2")

    assert response.status_code == 200
    room.refresh_from_db()
    assert room.breakout_room_mode == 3


def test_configure_automatic_creates_named_locked_rooms_with_moderators_and_balanced_students(
    client_for: Client, room: Conversation, owner: User, moderator: User, student: User
) -> None:
    add_students(room, 6)  # 7 students in all

    response = configure(client_for(owner), room.token, mode=1, amount=3)

    assert response.status_code == 200
    room.refresh_from_db()
    assert (room.breakout_room_mode, room.breakout_room_status, room.lobby_state) == (1, 0, 0)
    rooms = breakout_rooms(room)
    assert [r.name for r in rooms] == ["Room 1", "Room 2", "Room 3"]
    for breakout in rooms:
        assert (breakout.type, breakout.parent_id, breakout.lobby_state) == (2, room.pk, 1)
        assert (breakout.breakout_room_mode, breakout.breakout_room_status) == (0, 0)
        room_members = members(breakout)
        assert room_members["owner"] == 1
        assert room_members["moderator"] == 2
    student_counts = sorted(sum(1 for t in members(r).values() if t == 3) for r in rooms)
    assert student_counts == [2, 2, 3]
    assert Attendee.objects.filter(breakout_parent=room, participant_type=3).count() == 7
    data = ocs_data(response)
    assert [r["token"] for r in data] == [r.token for r in rooms] + [room.token]
    assert [r["participantType"] for r in data] == [1, 1, 1, 1]
    assert data[0]["objectType"] == "room" and data[0]["objectId"] == room.token
    assert data[-1]["breakoutRoomMode"] == 1


def test_configure_posts_created_then_user_added_messages_in_each_room(
    client_for: Client, room: Conversation, owner: User
) -> None:
    configure(client_for(owner), room.token, mode=1, amount=1)

    breakout = breakout_rooms(room)[0]
    # The owner (the caller, added as owner) gets no user_added; moderator and student do.
    assert system_messages(breakout) == ["conversation_created", "user_added", "user_added"]
    messages = ChatMessage.objects.filter(room=breakout).order_by("id")
    assert {m.actor_id for m in messages} == {"owner"}
    assert [m.parameters["user"]["id"] for m in messages[1:]] == ["moderator", "student"]
    assert ChatMessage.objects.filter(room=room).count() == 0


def test_configure_manual_places_mapped_students_and_ignores_moderators_and_strangers(
    client_for: Client, room: Conversation, owner: User, moderator: User, student: User
) -> None:
    others = add_students(room, 2)
    attendee_map = {
        parent_attendee(room, student).pk: 1,
        parent_attendee(room, others[0]).pk: 0,
        parent_attendee(room, moderator).pk: 0,
        999_999: 1,
    }

    response = configure(client_for(owner), room.token, mode=2, amount=2, attendeeMap=json.dumps(attendee_map))

    assert response.status_code == 200
    first, second = breakout_rooms(room)
    assert members(first) == {"owner": 1, "moderator": 2, others[0].username: 3}
    assert members(second) == {"owner": 1, "moderator": 2, "student": 3}


def test_configure_manual_without_a_map_adds_only_moderators(
    client_for: Client, room: Conversation, owner: User
) -> None:
    response = configure(client_for(owner), room.token, mode=2, amount=2)

    assert response.status_code == 200
    assert [members(r) for r in breakout_rooms(room)] == [{"owner": 1, "moderator": 2}] * 2


def test_configure_free_mode_adds_only_moderators(client_for: Client, room: Conversation, moderator: User) -> None:
    response = configure(client_for(moderator), room.token, mode=3, amount=2)

    assert response.status_code == 200
    rooms = breakout_rooms(room)
    assert [members(r) for r in rooms] == [{"owner": 1, "moderator": 2}] * 2
    # The caller is the moderator: the owner's addition is announced, the caller's own is not.
    assert system_messages(rooms[0]) == ["conversation_created", "user_added"]


def test_configure_ignores_non_user_attendees(client_for: Client, room: Conversation, owner: User) -> None:
    Attendee.objects.create(
        room=room, actor_type="groups", actor_id="staff", participant_type=Attendee.ParticipantType.USER
    )

    configure(client_for(owner), room.token, mode=1, amount=1)

    assert "staff" not in members(breakout_rooms(room)[0])


def test_configure_with_twenty_rooms_is_allowed(client_for: Client, room: Conversation, owner: User) -> None:
    response = configure(client_for(owner), room.token, mode=1, amount="20")

    assert response.status_code == 200
    assert [r.name for r in breakout_rooms(room)] == [f"Room {n}" for n in range(1, 21)]


# -- remove -------------------------------------------------------------------------------------


def remove(client: APIClient, token: str) -> Any:
    return client.delete(f"{V1}/breakout-rooms/{token}")


def test_remove_requires_a_login(anonymous_client: APIClient, room: Conversation) -> None:
    assert remove(anonymous_client, room.token).status_code == 401


def test_remove_answers_an_outsider_like_an_unknown_token(
    client_for: Client, room: Conversation, outsider: User, configured: Callable[..., list]
) -> None:
    configured()
    response = remove(client_for(outsider), room.token)

    assert response.status_code == 404
    assert response.json() == remove(client_for(outsider), "unknowntoken").json()
    assert len(breakout_rooms(room)) == 2


def test_remove_refuses_a_student(
    client_for: Client, room: Conversation, student: User, configured: Callable[..., list]
) -> None:
    configured()

    assert remove(client_for(student), room.token).status_code == 403
    assert len(breakout_rooms(room)) == 2


def test_remove_deletes_rooms_attendees_and_chat_and_resets_the_parent(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=1, amount=2)
    Conversation.objects.filter(pk=room.pk).update(breakout_room_status=1)
    room_ids = [r.pk for r in rooms]

    response = remove(client_for(owner), room.token)

    assert response.status_code == 200
    data = ocs_data(response)
    assert isinstance(data, dict)
    assert (data["token"], data["breakoutRoomMode"], data["breakoutRoomStatus"]) == (room.token, 0, 0)
    room.refresh_from_db()
    assert (room.breakout_room_mode, room.breakout_room_status) == (0, 0)
    assert not Conversation.objects.filter(pk__in=room_ids).exists()
    assert not Attendee.objects.filter(room_id__in=room_ids).exists()
    assert not ChatMessage.objects.filter(room_id__in=room_ids).exists()
    assert members(room) == {"owner": 1, "moderator": 2, "student": 3}


def test_remove_succeeds_on_a_parent_without_breakout_rooms(
    client_for: Client, room: Conversation, moderator: User
) -> None:
    response = remove(client_for(moderator), room.token)

    assert response.status_code == 200
    assert ocs_data(response)["breakoutRoomMode"] == 0


def test_configure_after_remove_starts_afresh(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    old = configured(mode=1, amount=3)
    remove(client_for(owner), room.token)

    response = configure(client_for(owner), room.token, mode=3, amount=2)

    assert response.status_code == 200
    new = breakout_rooms(room)
    assert [r.name for r in new] == ["Room 1", "Room 2"]
    assert not {r.pk for r in old} & {r.pk for r in new}


def test_configure_error_envelope_is_the_whole_ocs_failure_body(
    client_for: Client, room: Conversation, owner: User
) -> None:
    response = configure(client_for(owner), room.token, mode=0, amount=2)

    assert response.json() == {
        "ocs": {"meta": {"status": "failure", "statuscode": 400, "message": ""}, "data": {"error": "mode"}}
    }
    assert response["Content-Type"].startswith("application/json")


def test_configure_success_envelope_meta_is_ok_200(client_for: Client, room: Conversation, owner: User) -> None:
    response = configure(client_for(owner), room.token, mode=3, amount=1)

    assert response.json()["ocs"]["meta"] == {"status": "ok", "statuscode": 200, "message": "OK"}
