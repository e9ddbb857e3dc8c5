"""POST /v1/breakout-rooms/{token}/attendees: reorganize (contract 1.6, 4.6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import AppConfigValue, User
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation
from project.errors import BadRequest
from tests.breakout.conftest import add_students, breakout_rooms, members, parent_attendee
from tests.conftest import V1, ocs_data, ocs_error
from tests.helpers import system_messages

Client = Callable[[User], APIClient]


def reorganize(client: APIClient, token: str, attendee_map: Any = None) -> Any:
    params = {} if attendee_map is None else {"attendeeMap": attendee_map}
    return client.post(f"{V1}/breakout-rooms/{token}/attendees", params, format="json")


def placement(parent: Conversation) -> dict[str, list[str]]:
    """Room name -> student actor ids in that room."""
    return {r.name: sorted(a for a, t in members(r).items() if t == 3) for r in breakout_rooms(parent)}


def amap(parent: Conversation, **indices: int) -> str:
    return json.dumps({parent_attendee(parent, User.objects.get(username=u)).pk: i for u, i in indices.items()})


def test_reorganize_requires_a_login(anonymous_client: APIClient, room: Conversation) -> None:
    assert reorganize(anonymous_client, room.token, "{}").status_code == 401


def test_reorganize_answers_an_outsider_like_an_unknown_token(
    client_for: Client, room: Conversation, outsider: User, configured: Callable[..., list]
) -> None:
    configured()
    response = reorganize(client_for(outsider), room.token, "{}")

    assert response.status_code == 404
    assert response.json() == reorganize(client_for(outsider), "unknowntoken", "{}").json()


def test_reorganize_refuses_a_student(
    client_for: Client, room: Conversation, student: User, configured: Callable[..., list]
) -> None:
    configured(mode=2)

    assert reorganize(client_for(student), room.token, amap(room, student=0)).status_code == 403
    assert placement(room) == {"Room 1": [], "Room 2": []}


def test_reorganize_refuses_when_disabled_before_anything_else(
    client_for: Client, room: Conversation, owner: User
) -> None:
    AppConfigValue.objects.create(key="breakout_rooms", value="no")

    response = reorganize(client_for(owner), room.token, "garbage")

    assert response.status_code == 400
    assert ocs_error(response) == "config"


def test_reorganize_needs_a_configured_parent(client_for: Client, room: Conversation, owner: User) -> None:
    response = reorganize(client_for(owner), room.token, "garbage")

    assert response.status_code == 400
    assert ocs_error(response) == "mode"


@pytest.mark.parametrize("attendee_map", [None, '{"1": 2}', '{"0": 0}', "[0]", "{", '{"1": [1]}', "null", 5, {"1": 0}])
def test_reorganize_refuses_a_bad_map(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list], attendee_map: Any
) -> None:
    configured(mode=2)

    response = reorganize(client_for(owner), room.token, attendee_map)

    assert response.status_code == 400
    assert ocs_error(response) == "attendeeMap"


@pytest.mark.parametrize("who", ["moderator", "owner"])
def test_reorganize_refuses_to_move_a_moderator_and_changes_nothing(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list], who: str
) -> None:
    configured(mode=2, attendee_map=amap(room, student=0))

    response = reorganize(client_for(owner), room.token, amap(room, student=1, **{who: 0}))

    assert response.status_code == 400
    assert ocs_error(response) == "moderator"
    assert placement(room) == {"Room 1": ["student"], "Room 2": []}


def test_reorganize_refuses_a_student_who_was_made_moderator_in_a_breakout_room(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=2, attendee_map=amap(room, student=0))
    Attendee.objects.filter(room=rooms[0], actor_id="student").update(participant_type=2)

    response = reorganize(client_for(owner), room.token, amap(room, student=1))

    assert ocs_error(response) == "moderator"
    assert members(rooms[0])["student"] == 2


def test_reorganize_moves_only_the_students_whose_room_changes(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    pupils = add_students(room, 3)
    rooms = configured(mode=2, amount=2, attendee_map=amap(room, student=0, pupil0=0, pupil1=1))
    kept_ids = {a.actor_id: a.pk for a in Attendee.objects.filter(room__parent=room, participant_type=3)}
    before = [system_messages(r) for r in rooms]

    response = reorganize(client_for(owner), room.token, amap(room, student=0, pupil0=1, pupil2=1))

    assert response.status_code == 200
    assert placement(room) == {"Room 1": ["student"], "Room 2": ["pupil0", "pupil1", "pupil2"]}
    after_ids = {a.actor_id: a.pk for a in Attendee.objects.filter(room__parent=room, participant_type=3)}
    # Unmoved students (student stays in Room 1; pupil1 is not in the map) keep their rows.
    assert after_ids["student"] == kept_ids["student"]
    assert after_ids["pupil1"] == kept_ids["pupil1"]
    assert after_ids["pupil0"] != kept_ids["pupil0"]
    assert system_messages(rooms[0])[len(before[0]) :] == ["user_removed"]
    assert system_messages(rooms[1])[len(before[1]) :] == ["user_added", "user_added"]
    assert Attendee.objects.get(room=rooms[1], actor_id=pupils[2].username).breakout_parent_id == room.pk
    data = ocs_data(response)
    assert [r["token"] for r in data] == [r.token for r in rooms] + [room.token]


def test_reorganize_with_everyone_in_place_changes_nothing(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=2, attendee_map=amap(room, student=1))
    before = [system_messages(r) for r in rooms]

    assert reorganize(client_for(owner), room.token, amap(room, student=1)).status_code == 200
    assert [system_messages(r) for r in rooms] == before


def test_reorganize_works_in_every_mode_and_ignores_strangers(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured(mode=3, amount=3)

    response = reorganize(
        client_for(owner),
        room.token,
        json.dumps({parent_attendee(room, User.objects.get(username="student")).pk: 2, 99999: 0}),
    )

    assert response.status_code == 200
    assert placement(room) == {"Room 1": [], "Room 2": [], "Room 3": ["student"]}


def test_reorganize_indexes_the_remaining_rooms_by_ascending_id(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(mode=2, amount=3)
    Conversation.objects.filter(pk=rooms[0].pk).delete()

    assert reorganize(client_for(owner), room.token, amap(room, student=0)).status_code == 200
    assert placement(room) == {"Room 2": ["student"], "Room 3": []}
    assert ocs_error(reorganize(client_for(owner), room.token, amap(room, student=2))) == "attendeeMap"


def test_reorganize_service_accepts_a_decoded_map(
    room: Conversation, owner: User, student: User, configured: Callable[..., list]
) -> None:
    configured(mode=2)

    lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map={parent_attendee(room, student).pk: 1})

    assert placement(room) == {"Room 1": [], "Room 2": ["student"]}
    with pytest.raises(BadRequest):
        lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map={parent_attendee(room, student).pk: 2})
