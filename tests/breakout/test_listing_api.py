"""GET /v4/room/{token}/breakout-rooms and .../participants (contract 1.10, 1.11, 3.3, 5.2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation
from conversations.presenters import room_payload_limited
from tests.breakout.conftest import add_students, parent_attendee
from tests.conftest import V4, ocs_data, ocs_error

Client = Callable[[User], APIClient]


def listing(client: APIClient, token: str) -> Any:
    return client.get(f"{V4}/room/{token}/breakout-rooms")


def participants(client: APIClient, token: str, query: str = "") -> Any:
    return client.get(f"{V4}/room/{token}/breakout-rooms/participants{query}")


@pytest.fixture
def tree(room: Conversation, owner: User, student: User, configured: Callable[..., list]) -> Callable[..., list]:
    """Configure ``room`` (the student in Room 2 for modes 1/2) and optionally start it."""

    def make(*, mode: int, started: bool) -> list[Conversation]:
        attendee_map = {parent_attendee(room, student).pk: 1}
        rooms = configured(mode=mode, amount=2, attendee_map=json.dumps(attendee_map))
        if mode == 1:
            lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map=attendee_map)
        if started:
            lifecycle.breakout_start(actor=owner, parent=room)
        return rooms

    return make


@pytest.mark.parametrize("call", [listing, participants])
def test_listings_require_a_login(anonymous_client: APIClient, room: Conversation, call: Any) -> None:
    assert call(anonymous_client, room.token).status_code == 401


@pytest.mark.parametrize("call", [listing, participants])
def test_listings_answer_an_outsider_like_an_unknown_token(
    client_for: Client, room: Conversation, outsider: User, tree: Callable[..., list], call: Any
) -> None:
    tree(mode=3, started=True)
    response = call(client_for(outsider), room.token)

    assert response.status_code == 404
    assert response.json() == call(client_for(outsider), "unknowntoken").json()


@pytest.mark.parametrize("call", [listing, participants])
@pytest.mark.parametrize("who", ["owner", "student"])
def test_listings_need_a_configured_parent(client_for: Client, room: Conversation, call: Any, who: str) -> None:
    response = call(client_for(User.objects.get(username=who)), room.token)

    assert response.status_code == 400
    assert ocs_error(response) == "mode"


@pytest.mark.parametrize("call", [listing, participants])
@pytest.mark.parametrize("mode", [1, 2, 3])
def test_listings_refuse_students_while_stopped(
    client_for: Client, room: Conversation, student: User, tree: Callable[..., list], call: Any, mode: int
) -> None:
    tree(mode=mode, started=False)

    response = call(client_for(student), room.token)

    assert response.status_code == 400
    assert ocs_error(response) == "status"


@pytest.mark.parametrize("mode", [1, 2, 3])
@pytest.mark.parametrize("started", [False, True])
@pytest.mark.parametrize("who", ["owner", "moderator"])
def test_moderators_list_every_room_in_full(
    client_for: Client, room: Conversation, tree: Callable[..., list], mode: int, started: bool, who: str
) -> None:
    rooms = tree(mode=mode, started=started)
    user = User.objects.get(username=who)

    response = listing(client_for(user), room.token)

    assert response.status_code == 200
    data = ocs_data(response)
    assert [r["token"] for r in data] == [r.token for r in rooms]
    rows = {a.room_id: a for a in Attendee.objects.filter(user=user, room__parent=room)}
    assert [r["attendeeId"] for r in data] == [rows[r.pk].pk for r in rooms]
    assert {r["participantType"] for r in data} == {1 if who == "owner" else 2}


@pytest.mark.parametrize("mode", [1, 2])
def test_assigned_students_list_only_their_room_once_started(
    client_for: Client, room: Conversation, student: User, tree: Callable[..., list], mode: int
) -> None:
    rooms = tree(mode=mode, started=True)

    data = ocs_data(listing(client_for(student), room.token))

    assert [r["token"] for r in data] == [rooms[1].token]
    assert data[0]["participantType"] == 3
    assert data[0]["attendeeId"] == Attendee.objects.get(room=rooms[1], user=student).pk


def test_unassigned_students_list_no_rooms(client_for: Client, room: Conversation, tree: Callable[..., list]) -> None:
    (late,) = add_students(room, 1)
    tree(mode=2, started=True)

    response = listing(client_for(late), room.token)

    assert response.status_code == 200
    assert ocs_data(response) == []


def test_free_mode_students_see_every_room_limited_where_they_are_not_in(
    client_for: Client, room: Conversation, student: User, tree: Callable[..., list]
) -> None:
    rooms = tree(mode=3, started=True)
    lifecycle.breakout_switch(actor=student, parent=room, target=rooms[1].token)

    data = ocs_data(listing(client_for(student), room.token))

    assert [r["token"] for r in data] == [r.token for r in rooms]
    rooms[0].refresh_from_db()
    assert data[0] == room_payload_limited(Conversation.objects.select_related("parent").get(pk=rooms[0].pk))
    assert (data[0]["participantType"], data[0]["attendeeId"], data[0]["actorType"]) == (4, 0, "")
    assert data[0]["objectId"] == room.token
    assert (data[1]["participantType"], data[1]["actorId"]) == (3, "student")


def test_participants_listing_for_a_moderator_covers_the_parent_and_every_room(
    client_for: Client, room: Conversation, owner: User, tree: Callable[..., list]
) -> None:
    rooms = tree(mode=2, started=False)

    response = participants(client_for(owner), room.token, "?includeStatus=true")

    assert response.status_code == 200
    entries = {(p["roomToken"], p["actorId"], p["participantType"]) for p in ocs_data(response)}
    assert entries == {
        (room.token, "owner", 1),
        (room.token, "moderator", 2),
        (room.token, "student", 3),
        (rooms[0].token, "owner", 1),
        (rooms[0].token, "moderator", 2),
        (rooms[1].token, "owner", 1),
        (rooms[1].token, "moderator", 2),
        (rooms[1].token, "student", 3),
    }
    assert "status" in ocs_data(response)[0]


def test_participants_listing_for_an_assigned_student_covers_the_parent_and_their_room(
    client_for: Client, room: Conversation, student: User, tree: Callable[..., list]
) -> None:
    rooms = tree(mode=1, started=True)

    data = ocs_data(participants(client_for(student), room.token))

    assert {p["roomToken"] for p in data} == {room.token, rooms[1].token}
    assert "status" not in data[0]
    own = next(p for p in data if p["roomToken"] == rooms[1].token and p["actorId"] == "student")
    assert own["attendeeId"] == Attendee.objects.get(room=rooms[1], user=student).pk


def test_participants_listing_for_a_free_mode_student_covers_every_room(
    client_for: Client, room: Conversation, student: User, tree: Callable[..., list]
) -> None:
    rooms = tree(mode=3, started=True)

    data = ocs_data(participants(client_for(student), room.token))

    assert {p["roomToken"] for p in data} == {room.token, *(r.token for r in rooms)}


def test_participants_listing_applies_the_lobby_rule_of_the_parent(
    client_for: Client, room: Conversation, student: User, owner: User, tree: Callable[..., list]
) -> None:
    tree(mode=3, started=True)
    Conversation.objects.filter(pk=room.pk).update(lobby_state=1)

    assert participants(client_for(student), room.token).status_code == 412
    assert participants(client_for(owner), room.token).status_code == 200


def test_participants_listing_refuses_a_bad_include_status(
    client_for: Client, room: Conversation, owner: User, tree: Callable[..., list]
) -> None:
    tree(mode=3, started=True)

    response = participants(client_for(owner), room.token, "?includeStatus=maybe")

    assert response.status_code == 400
    assert ocs_error(response) == "includeStatus"


def test_room_list_shows_each_role_its_share_of_the_tree(
    client_for: Client,
    room: Conversation,
    owner: User,
    moderator: User,
    student: User,
    outsider: User,
    tree: Callable[..., list],
) -> None:
    (late,) = add_students(room, 1)
    rooms = tree(mode=2, started=False)

    def tokens(user: User) -> list[str]:
        return [r["token"] for r in ocs_data(client_for(user).get(f"{V4}/room"))]

    assert tokens(owner) == [room.token, rooms[0].token, rooms[1].token]
    assert tokens(moderator) == [room.token, rooms[0].token, rooms[1].token]
    assert tokens(student) == [room.token, rooms[1].token]
    assert tokens(late) == [room.token]
    assert tokens(outsider) == []


@pytest.mark.parametrize("amount", [2, 12])
def test_the_listing_takes_a_constant_number_of_queries(
    client_for: Client,
    room: Conversation,
    owner: User,
    student: User,
    configured: Callable[..., list],
    amount: int,
    django_assert_num_queries: Any,
) -> None:
    add_students(room, amount)
    rooms = configured(mode=3, amount=amount)
    lifecycle.breakout_start(actor=owner, parent=room)
    lifecycle.breakout_switch(actor=student, parent=room, target=rooms[0].token)
    client = client_for(student)

    # 1 the caller's attendee row in the parent with the parent; 2 every breakout room with the
    # caller's row, last message and per-caller values where the caller is in it.
    with django_assert_num_queries(2):
        response = listing(client, room.token)

    data = ocs_data(response)
    assert [r["token"] for r in data] == [r.token for r in rooms]
    assert (data[0]["participantType"], data[0]["actorId"]) == (3, "student")
    assert all(r["attendeeId"] == 0 for r in data[1:])
