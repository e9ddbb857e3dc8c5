"""Request/reset assistance (contract 1.7, 1.8) and switch (1.9, 4.7, decision 10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation
from tests.breakout.conftest import add_students, breakout_rooms, members
from tests.conftest import V1, ocs_data, ocs_error
from tests.helpers import system_messages

Client = Callable[[User], APIClient]


def request_assistance(client: APIClient, token: str) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}/request-assistance")


def reset_assistance(client: APIClient, token: str) -> Any:
    return client.delete(f"{V1}/breakout-rooms/{token}/request-assistance")


def switch(client: APIClient, token: str, **params: Any) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}/switch", params, format="json")


def status_of(room: Conversation) -> int:
    room.refresh_from_db()
    return room.breakout_room_status


# -- assistance ---------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [request_assistance, reset_assistance])
def test_assistance_requires_a_login(anonymous_client: APIClient, room: Conversation, call: Any) -> None:
    assert call(anonymous_client, room.token).status_code == 401


@pytest.mark.parametrize("call", [request_assistance, reset_assistance])
def test_assistance_answers_a_non_member_of_the_breakout_room_with_404(
    client_for: Client, room: Conversation, student: User, started: Callable[..., list], call: Any
) -> None:
    rooms = started(mode=2)  # nobody placed: the student is not in Room 1

    response = call(client_for(student), rooms[0].token)

    assert response.status_code == 404
    assert response.json() == call(client_for(student), "unknowntoken").json()
    assert status_of(rooms[0]) == 0


@pytest.mark.parametrize("call", [request_assistance, reset_assistance])
def test_assistance_refuses_a_conversation_that_is_not_a_breakout_room(
    client_for: Client, room: Conversation, student: User, call: Any
) -> None:
    response = call(client_for(student), room.token)

    assert response.status_code == 400
    assert ocs_error(response) == "room"


@pytest.mark.parametrize("call", [request_assistance, reset_assistance])
def test_assistance_refuses_a_breakout_room_behind_its_lobby(
    client_for: Client, student: User, configured: Callable[..., list], call: Any
) -> None:
    rooms = configured(mode=1, amount=1)

    response = call(client_for(student), rooms[0].token)

    assert response.status_code == 400
    assert ocs_error(response) == "room"
    assert status_of(rooms[0]) == 0


def test_a_student_requests_and_resets_assistance(
    client_for: Client, room: Conversation, student: User, started: Callable[..., list]
) -> None:
    rooms = started(mode=1, amount=1)
    before = system_messages(rooms[0])

    response = request_assistance(client_for(student), rooms[0].token)

    assert response.status_code == 200
    assert (ocs_data(response)["token"], ocs_data(response)["breakoutRoomStatus"]) == (rooms[0].token, 2)
    assert ocs_data(response)["participantType"] == 3
    assert status_of(rooms[0]) == 2
    assert request_assistance(client_for(student), rooms[0].token).status_code == 200  # idempotent
    room.refresh_from_db()
    assert room.breakout_room_status == 1

    response = reset_assistance(client_for(student), rooms[0].token)

    assert response.status_code == 200
    assert ocs_data(response)["breakoutRoomStatus"] == 0
    assert status_of(rooms[0]) == 0
    assert system_messages(rooms[0]) == before


def test_a_moderator_may_reset_a_request(
    client_for: Client, student: User, moderator: User, started: Callable[..., list]
) -> None:
    rooms = started(mode=1, amount=1)
    request_assistance(client_for(student), rooms[0].token)

    assert reset_assistance(client_for(moderator), rooms[0].token).status_code == 200
    assert status_of(rooms[0]) == 0


# -- switch -------------------------------------------------------------------------------------


def test_switch_requires_a_login(anonymous_client: APIClient, room: Conversation) -> None:
    assert switch(anonymous_client, room.token, target="x").status_code == 401


def test_switch_answers_an_outsider_like_an_unknown_token(
    client_for: Client, room: Conversation, outsider: User, started: Callable[..., list]
) -> None:
    rooms = started(mode=3)
    response = switch(client_for(outsider), room.token, target=rooms[0].token)

    assert response.status_code == 404
    assert response.json() == switch(client_for(outsider), "unknowntoken", target=rooms[0].token).json()


@pytest.mark.parametrize("mode", [1, 2])
def test_switch_needs_free_mode(
    client_for: Client, room: Conversation, student: User, started: Callable[..., list], mode: int
) -> None:
    rooms = started(mode=mode)

    response = switch(client_for(student), room.token, target=rooms[1].token)

    assert response.status_code == 400
    assert ocs_error(response) == "mode"


def test_switch_needs_a_configured_parent(client_for: Client, room: Conversation, student: User) -> None:
    assert ocs_error(switch(client_for(student), room.token, target="whatever")) == "mode"


def test_switch_needs_started_rooms(
    client_for: Client, room: Conversation, student: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=3)

    response = switch(client_for(student), room.token, target=rooms[0].token)

    assert response.status_code == 400
    assert ocs_error(response) == "status"


@pytest.mark.parametrize("who", ["owner", "moderator"])
def test_switch_refuses_moderators(
    client_for: Client, room: Conversation, started: Callable[..., list], who: str
) -> None:
    rooms = started(mode=3)

    response = switch(client_for(User.objects.get(username=who)), room.token, target=rooms[0].token)

    assert response.status_code == 400
    assert ocs_error(response) == "moderator"


@pytest.mark.parametrize("target", [None, "", "unknowntoken", 5, ["x"], "PARENT"])
def test_switch_refuses_a_target_that_is_not_one_of_the_rooms(
    client_for: Client, room: Conversation, student: User, started: Callable[..., list], target: Any
) -> None:
    started(mode=3)
    target = room.token if target == "PARENT" else target
    params = {} if target is None else {"target": target}

    response = switch(client_for(student), room.token, **params)

    assert response.status_code == 400
    assert ocs_error(response) == "target"
    assert Attendee.objects.filter(breakout_parent=room, actor_id="student").count() == 0


def test_switch_refuses_a_room_of_another_parent(
    client_for: Client, room: Conversation, owner: User, student: User, started: Callable[..., list]
) -> None:
    started(mode=3)
    other = Conversation.objects.create(name="Other")
    Attendee.objects.create(room=other, user=owner, actor_id="owner", participant_type=1)
    lifecycle.breakout_configure(actor=owner, parent=other, mode=3, amount=1, attendee_map={})

    response = switch(client_for(student), room.token, target=breakout_rooms(other)[0].token)

    assert ocs_error(response) == "target"


def test_switch_moves_the_student_into_the_target_only(
    client_for: Client, room: Conversation, student: User, started: Callable[..., list]
) -> None:
    rooms = started(mode=3, amount=3)

    response = switch(client_for(student), room.token, target=rooms[0].token)

    assert response.status_code == 200
    assert [("student" in members(r)) for r in rooms] == [True, False, False]
    own_row = Attendee.objects.get(room=rooms[0], actor_id="student")
    data = ocs_data(response)
    # Decision 10: the caller's attendee row in the target room, not in the parent.
    assert (data["token"], data["attendeeId"], data["participantType"]) == (rooms[0].token, own_row.pk, 3)
    assert system_messages(rooms[0])[-1] == "user_added"

    response = switch(client_for(student), room.token, target=rooms[2].token)

    assert response.status_code == 200
    assert [("student" in members(r)) for r in rooms] == [False, False, True]
    # The student removed themselves: Talk records that as user_removed by the student.
    assert system_messages(rooms[0])[-1] == "user_removed"
    assert system_messages(rooms[2])[-1] == "user_added"


def test_switch_to_the_current_room_changes_nothing(
    client_for: Client, room: Conversation, student: User, started: Callable[..., list]
) -> None:
    rooms = started(mode=3)
    switch(client_for(student), room.token, target=rooms[1].token)
    row = Attendee.objects.get(room=rooms[1], actor_id="student")
    before = system_messages(rooms[1])

    response = switch(client_for(student), room.token, target=rooms[1].token)

    assert response.status_code == 200
    assert Attendee.objects.get(room=rooms[1], actor_id="student").pk == row.pk
    assert system_messages(rooms[1]) == before


def test_switch_keeps_the_students_own_parent_type_and_name(
    client_for: Client, room: Conversation, started: Callable[..., list]
) -> None:
    (pupil,) = add_students(room, 1)
    Attendee.objects.filter(room=room, user=pupil).update(participant_type=5, display_name="Self Joined")
    rooms = started(mode=3)

    switch(client_for(pupil), room.token, target=rooms[0].token)

    row = Attendee.objects.get(room=rooms[0], user=pupil)
    assert (row.participant_type, row.display_name, row.breakout_parent_id) == (5, "Self Joined", room.pk)
