"""The breakout-specific behaviour of the conversation endpoints (contract 1.12, 4.4, 4.5, 5.1, 5.3)
and the invariants they keep: a student is in at most one breakout room of a parent, every parent
moderator is a moderator in each breakout room, a breakout room's lobby follows its parent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation
from tests.conversations.helpers import attendee_of, breakout_rooms_build, types_by_room
from tests.factories import AttendeeFactory, UserFactory
from tests.helpers import EVENT_QUERIES, V1, V4, ocs_data, ocs_error, system_messages

ClientFor = Callable[[User], APIClient]


def url(room: Conversation, suffix: str = "") -> str:
    return f"{V4}/room/{room.token}{suffix}"


def assert_moderator_invariant(parent: Conversation) -> None:
    """Every owner/moderator of the parent is an owner/moderator in each of its breakout rooms."""
    moderators = set(
        Attendee.objects.filter(room=parent, participant_type__in=[1, 2]).values_list("actor_id", flat=True)
    )
    for breakout_room in parent.breakout_rooms.all():
        in_room = set(
            Attendee.objects.filter(room=breakout_room, participant_type__in=[1, 2]).values_list("actor_id", flat=True)
        )
        assert moderators <= in_room, breakout_room.name


# --- visibility -----------------------------------------------------------------------------------


def test_room_list_shows_breakout_rooms_to_moderators_and_to_the_assigned_student(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], moderator: User, student: User
) -> None:
    for_moderator = ocs_data(client_for(moderator).get(f"{V4}/room"))
    for_student = ocs_data(client_for(student).get(f"{V4}/room"))

    assert [(r["name"], r["participantType"]) for r in for_moderator] == [("Class", 2), ("Room 1", 2), ("Room 2", 2)]
    assert [(r["name"], r["objectType"], r["objectId"]) for r in for_student] == [
        ("Class", "", ""),
        ("Room 1", "room", room.token),
    ]
    assert for_student[1]["lobbyState"] == 1
    assert for_student[1]["attendeeId"] == attendee_of(breakout_rooms[0], student).pk


def test_a_breakout_room_is_only_accessible_to_its_attendees(
    client_for: ClientFor, breakout_rooms: list[Conversation], student: User
) -> None:
    own = client_for(student).get(url(breakout_rooms[0]))
    other = client_for(student).get(url(breakout_rooms[1]))

    assert own.status_code == 200
    assert other.status_code == 404


@pytest.mark.parametrize(("endpoint", "method"), [("/participants", "get"), ("chat", "get"), ("chat", "post")])
def test_students_get_412_in_a_stopped_breakout_room_and_moderators_do_not(
    client_for: ClientFor,
    breakout_rooms: list[Conversation],
    student: User,
    moderator: User,
    endpoint: str,
    method: str,
) -> None:
    target = f"{V1}/chat/{breakout_rooms[0].token}" if endpoint == "chat" else url(breakout_rooms[0], endpoint)

    student_response = getattr(client_for(student), method)(target, {"message": "hi"})
    moderator_response = getattr(client_for(moderator), method)(target, {"message": "hi"})
    Conversation.objects.filter(pk=breakout_rooms[0].pk).update(lobby_state=0)
    started_response = getattr(client_for(student), method)(target, {"message": "hi"})

    assert student_response.status_code == 412
    assert moderator_response.status_code in (200, 201)
    assert started_response.status_code in (200, 201)


# --- extra breakout room through POST /v4/room -------------------------------------------------


def test_extra_room_makes_the_creator_owner_adds_parent_moderators_and_follows_the_parents_status(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], moderator: User, student: User
) -> None:
    response = client_for(moderator).post(
        f"{V4}/room", {"roomType": 3, "roomName": "Extra", "objectType": "room", "objectId": room.token}
    )

    assert response.status_code == 201
    data = ocs_data(response)
    assert (data["objectType"], data["objectId"], data["type"], data["participantType"]) == ("room", room.token, 2, 1)
    extra = Conversation.objects.get(token=data["token"])
    assert (extra.parent_id, extra.lobby_state, extra.type) == (room.pk, 1, 2)
    assert list(Attendee.objects.filter(room=extra).order_by("id").values_list("actor_id", "participant_type")) == [
        ("moderator", 1),
        ("owner", 1),
    ]
    assert system_messages(extra) == ["conversation_created", "user_added"]
    assert_moderator_invariant(room)


def test_extra_room_of_a_started_parent_has_no_lobby(client_for: ClientFor, room: Conversation, owner: User) -> None:
    breakout_rooms_build(room, count=1, started=True)

    response = client_for(owner).post(
        f"{V4}/room", {"roomType": 2, "roomName": "Extra", "objectType": "room", "objectId": room.token}
    )

    assert response.status_code == 201
    assert Conversation.objects.get(token=ocs_data(response)["token"]).lobby_state == 0


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("unknown parent", "room"),
        ("parent the caller is not in", "room"),
        ("public parent the caller is not in", "permissions"),
        ("student of the parent", "permissions"),
        ("student of the parent with a bad name", "permissions"),
        ("parent not configured", "mode"),
        ("parent not configured with a bad name", "mode"),
        ("a breakout room as parent", "mode"),
        ("other object type", "object"),
        ("empty name", "name"),
        ("name too long", "name"),
    ],
)
def test_extra_room_checks_run_in_the_reference_order(
    client_for: ClientFor,
    room: Conversation,
    breakout_rooms: list[Conversation],
    owner: User,
    student: User,
    outsider: User,
    case: str,
    key: str,
) -> None:
    caller, parent_token, name, object_type = owner, room.token, "Extra", "room"
    if case == "unknown parent":
        parent_token = "unknowntoken"
    elif case == "parent the caller is not in":
        caller = outsider
    elif case == "public parent the caller is not in":
        caller = outsider
        Conversation.objects.filter(pk=room.pk).update(type=Conversation.Type.PUBLIC)
    elif case.startswith("student of the parent"):
        caller = student
        name = "" if "bad name" in case else name
    elif case.startswith("parent not configured"):
        Conversation.objects.filter(parent=room).delete()
        Conversation.objects.filter(pk=room.pk).update(breakout_room_mode=0)
        name = "" if "bad name" in case else name
    elif case == "a breakout room as parent":
        parent_token = breakout_rooms[0].token
    elif case == "other object type":
        object_type = "files"
    elif case == "empty name":
        name = "  "
    elif case == "name too long":
        name = "n" * 256
    rooms_before = Conversation.objects.count()

    response = client_for(caller).post(
        f"{V4}/room", {"roomType": 2, "roomName": name, "objectType": object_type, "objectId": parent_token}
    )

    assert response.status_code == 400
    assert ocs_error(response) == key
    assert Conversation.objects.count() == rooms_before


# --- POST participants on a breakout room ---------------------------------------------------------


def test_adding_a_student_to_another_breakout_room_moves_them(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, student: User
) -> None:
    response = client_for(owner).post(url(breakout_rooms[1], "/participants"), {"newParticipant": "student"})

    assert response.status_code == 200
    assert ocs_data(response) == []
    assert types_by_room(student, room) == {"Class": 3, "Room 2": 3}
    assert system_messages(breakout_rooms[0]) == ["user_removed"]
    assert system_messages(breakout_rooms[1]) == ["user_added"]


def test_adding_someone_outside_the_parent_adds_them_to_the_parent_too(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, outsider: User
) -> None:
    response = client_for(owner).post(url(breakout_rooms[1], "/participants"), {"newParticipant": "outsider"})

    assert response.status_code == 200
    assert types_by_room(outsider, room) == {"Class": 3, "Room 2": 3}
    assert system_messages(room) == ["user_added"]


def test_re_adding_a_student_to_their_own_breakout_room_is_a_no_op(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, student: User
) -> None:
    attendee_id = attendee_of(breakout_rooms[0], student).pk

    response = client_for(owner).post(url(breakout_rooms[0], "/participants"), {"newParticipant": "student"})

    assert response.status_code == 200
    assert attendee_of(breakout_rooms[0], student).pk == attendee_id
    assert system_messages(breakout_rooms[0]) == []


def test_a_parent_moderator_missing_from_a_breakout_room_is_added_with_the_parent_type(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, moderator: User
) -> None:
    Attendee.objects.filter(room=breakout_rooms[1], user=moderator).delete()

    response = client_for(owner).post(url(breakout_rooms[1], "/participants"), {"newParticipant": "moderator"})

    assert response.status_code == 200
    assert types_by_room(moderator, room) == {"Class": 2, "Room 1": 2, "Room 2": 2}


@pytest.mark.parametrize(
    ("params", "status", "key"),
    [
        ({"newParticipant": "student", "source": "groups"}, 400, "source"),
        ({"newParticipant": "nobody"}, 404, "new-participant"),
        ({"newParticipant": "moderator"}, 400, "moderator"),
        ({"newParticipant": "promoted"}, 400, "moderator"),
    ],
)
def test_adding_to_a_breakout_room_refuses_bad_sources_unknown_users_and_moderators(
    client_for: ClientFor,
    room: Conversation,
    breakout_rooms: list[Conversation],
    owner: User,
    params: dict[str, str],
    status: int,
    key: str,
) -> None:
    promoted = UserFactory(username="promoted")
    AttendeeFactory(room=room, user=promoted, participant_type=3)
    AttendeeFactory(room=breakout_rooms[0], user=promoted, participant_type=2)
    rows_before = Attendee.objects.count()

    response = client_for(owner).post(url(breakout_rooms[1], "/participants"), params)

    assert response.status_code == status
    assert ocs_error(response) == key
    assert Attendee.objects.count() == rows_before


def test_a_student_cannot_add_participants_to_their_breakout_room(
    client_for: ClientFor, breakout_rooms: list[Conversation], student: User, outsider: User
) -> None:
    Conversation.objects.filter(pk=breakout_rooms[0].pk).update(lobby_state=0)

    response = client_for(student).post(url(breakout_rooms[0], "/participants"), {"newParticipant": "outsider"})

    assert response.status_code == 403


# --- deletion and removal -------------------------------------------------------------------------


def test_deleting_the_parent_deletes_its_breakout_rooms_their_attendees_and_chat(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User
) -> None:
    ChatMessage.objects.create(room=breakout_rooms[0], actor_id="owner", message="hi")

    response = client_for(owner).delete(url(room))

    assert response.status_code == 200
    ids = [room.pk] + [r.pk for r in breakout_rooms]
    assert not Conversation.objects.filter(pk__in=ids).exists()
    assert not Attendee.objects.filter(room_id__in=ids).exists()
    assert not ChatMessage.objects.filter(room_id__in=ids).exists()


def test_deleting_a_breakout_room_keeps_the_parent_and_the_other_rooms(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User
) -> None:
    response = client_for(owner).delete(url(breakout_rooms[0]))

    assert response.status_code == 200
    room.refresh_from_db()
    assert (room.breakout_room_mode, room.breakout_room_status) == (2, 0)
    assert list(room.breakout_rooms.values_list("name", flat=True)) == ["Room 2"]


def test_removing_a_student_from_the_parent_removes_them_from_breakout_rooms(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, student: User
) -> None:
    response = client_for(owner).delete(url(room, "/attendees"), {"attendeeId": attendee_of(room, student).pk})

    assert response.status_code == 200
    assert types_by_room(student, room) == {}
    assert system_messages(breakout_rooms[0]) == ["user_removed"]


def test_removing_a_moderator_from_the_parent_removes_them_from_every_breakout_room(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, moderator: User
) -> None:
    response = client_for(owner).delete(url(room, "/attendees"), {"attendeeId": attendee_of(room, moderator).pk})

    assert response.status_code == 200
    assert types_by_room(moderator, room) == {}


def test_removing_a_student_from_a_breakout_room_keeps_them_in_the_parent(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, student: User
) -> None:
    attendee_id = attendee_of(breakout_rooms[0], student).pk

    response = client_for(owner).delete(url(breakout_rooms[0], "/attendees"), {"attendeeId": attendee_id})

    assert response.status_code == 200
    assert types_by_room(student, room) == {"Class": 3}


def test_removing_a_parent_moderator_from_a_breakout_room_is_refused(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, moderator: User
) -> None:
    attendee_id = attendee_of(breakout_rooms[0], moderator).pk

    response = client_for(owner).delete(url(breakout_rooms[0], "/attendees"), {"attendeeId": attendee_id})

    assert response.status_code == 400
    assert ocs_error(response) == "moderator"
    assert_moderator_invariant(room)


def test_leaving_the_parent_leaves_its_breakout_rooms(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], student: User
) -> None:
    response = client_for(student).delete(url(room, "/participants/self"))

    assert response.status_code == 200
    assert types_by_room(student, room) == {}
    assert system_messages(breakout_rooms[0]) == ["user_removed"]


def test_a_student_may_leave_a_breakout_room_but_a_parent_moderator_may_not(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], student: User, moderator: User
) -> None:
    Conversation.objects.filter(pk=breakout_rooms[0].pk).update(lobby_state=0)

    student_response = client_for(student).delete(url(breakout_rooms[0], "/participants/self"))
    moderator_response = client_for(moderator).delete(url(breakout_rooms[0], "/participants/self"))

    assert student_response.status_code == 200
    assert types_by_room(student, room) == {"Class": 3}
    assert moderator_response.status_code == 400
    assert ocs_error(moderator_response) == "moderator"
    assert_moderator_invariant(room)


# --- moderator propagation (4.4) ------------------------------------------------------------------


def test_promoting_a_student_in_the_parent_makes_them_moderator_in_every_breakout_room(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, student: User
) -> None:
    response = client_for(owner).post(url(room, "/moderators"), {"attendeeId": attendee_of(room, student).pk})

    assert response.status_code == 200
    assert types_by_room(student, room) == {"Class": 2, "Room 1": 2, "Room 2": 2}
    assert system_messages(breakout_rooms[0]) == ["moderator_promoted"]
    assert system_messages(breakout_rooms[1]) == ["user_added"]
    assert_moderator_invariant(room)


def test_demoting_a_moderator_in_the_parent_removes_them_from_every_breakout_room(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, moderator: User
) -> None:
    response = client_for(owner).delete(url(room, "/moderators"), {"attendeeId": attendee_of(room, moderator).pk})

    assert response.status_code == 200
    assert types_by_room(moderator, room) == {"Class": 3}
    assert [system_messages(r) for r in breakout_rooms] == [["user_removed"], ["user_removed"]]


def test_a_promotion_inside_a_breakout_room_affects_only_that_room(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, student: User
) -> None:
    attendee_id = attendee_of(breakout_rooms[0], student).pk

    promoted = client_for(owner).post(url(breakout_rooms[0], "/moderators"), {"attendeeId": attendee_id})
    types_after_promotion = types_by_room(student, room)
    demoted = client_for(owner).delete(url(breakout_rooms[0], "/moderators"), {"attendeeId": attendee_id})

    assert (promoted.status_code, demoted.status_code) == (200, 200)
    assert types_after_promotion == {"Class": 3, "Room 1": 2}
    assert types_by_room(student, room) == {"Class": 3, "Room 1": 3}


def test_demoting_a_parent_moderator_inside_a_breakout_room_is_refused(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User, moderator: User
) -> None:
    attendee_id = attendee_of(breakout_rooms[0], moderator).pk

    response = client_for(owner).delete(url(breakout_rooms[0], "/moderators"), {"attendeeId": attendee_id})

    assert response.status_code == 400
    assert ocs_error(response) == "moderator"
    assert Attendee.objects.get(pk=attendee_id).participant_type == 2


def test_promotion_in_a_parent_without_breakout_rooms_touches_nothing_else(
    client_for: ClientFor, room: Conversation, owner: User, student: User
) -> None:
    response = client_for(owner).post(url(room, "/moderators"), {"attendeeId": attendee_of(room, student).pk})

    assert response.status_code == 200
    assert Attendee.objects.filter(user=student).count() == 1


# --- query budgets on a parent: constant in the number of breakout rooms ------------------------


def _tree(room: Conversation, student: User, count: int) -> list[Conversation]:
    rooms = breakout_rooms_build(room, count=count)
    AttendeeFactory(room=rooms[-1], user=student, participant_type=3)
    return rooms


@pytest.mark.parametrize("count", [2, 20])
def test_promotion_on_a_parent_takes_constant_queries(
    client_for: ClientFor, room: Conversation, owner: User, student: User, count: int, django_assert_num_queries: Any
) -> None:
    _tree(room, student, count)
    attendee_id = attendee_of(room, student).pk
    client = client_for(owner)

    # caller's attendee; savepoint; tree lock; target; UPDATE type; INSERT + touch of the message;
    # the user's breakout rows; UPDATE their student row; INSERT + touch of moderator_promoted;
    # rooms they are missing from; INSERT attendees; INSERT + touch of user_added; release.
    with django_assert_num_queries(16 + EVENT_QUERIES):
        response = client.post(url(room, "/moderators"), {"attendeeId": attendee_id})

    assert response.status_code == 200
    assert len(types_by_room(student, room)) == count + 1


@pytest.mark.parametrize("count", [2, 20])
def test_demotion_on_a_parent_takes_constant_queries(
    client_for: ClientFor, room: Conversation, owner: User, moderator: User, count: int, django_assert_num_queries: Any
) -> None:
    breakout_rooms_build(room, count=count)
    attendee_id = attendee_of(room, moderator).pk
    client = client_for(owner)

    # caller's attendee; savepoint; tree lock; target; UPDATE type; INSERT + touch of the message;
    # the user's breakout rows; DELETE them (collector SELECT + DELETE); INSERT + touch of
    # user_removed; release.
    with django_assert_num_queries(12 + EVENT_QUERIES):
        response = client.delete(url(room, "/moderators"), {"attendeeId": attendee_id})

    assert response.status_code == 200
    assert types_by_room(moderator, room) == {"Class": 3}


@pytest.mark.parametrize("count", [2, 20])
def test_removal_from_a_parent_takes_constant_queries(
    client_for: ClientFor, room: Conversation, owner: User, moderator: User, count: int, django_assert_num_queries: Any
) -> None:
    breakout_rooms_build(room, count=count)
    attendee_id = attendee_of(room, moderator).pk
    client = client_for(owner)

    # caller's attendee; savepoint; tree lock; target; UPDATE (close) the actor's open assignment
    # spans; the actor's breakout rows; DELETE (collector SELECT + DELETE); INSERT + touch of
    # user_removed; release.
    with django_assert_num_queries(10 + EVENT_QUERIES):
        response = client.delete(url(room, "/attendees"), {"attendeeId": attendee_id})

    assert response.status_code == 200
    assert types_by_room(moderator, room) == {}


@pytest.mark.parametrize("count", [2, 20])
def test_leaving_a_parent_takes_constant_queries(
    client_for: ClientFor, room: Conversation, moderator: User, count: int, django_assert_num_queries: Any
) -> None:
    breakout_rooms_build(room, count=count)
    client = client_for(moderator)

    # caller's attendee; savepoint; tree lock; own row; user/moderator counts; the caller's
    # breakout rows (after an UPDATE closing their open assignment spans); DELETE (collector
    # SELECT + DELETE); INSERT + touch of user_removed; release.
    with django_assert_num_queries(11 + EVENT_QUERIES):
        response = client.delete(url(room, "/participants/self"))

    assert response.status_code == 200
    assert types_by_room(moderator, room) == {}


# --- settings refused on breakout rooms -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "params", "key"),
    [
        ("put", "/webinar/lobby", {"state": 0}, "breakout-room"),
        ("put", "/listable", {"scope": 1}, "breakout-room"),
        ("post", "/public", {}, "breakout-room"),
        ("put", "/password", {"password": "secret"}, "type"),
        ("post", "/message-expiration", {"seconds": 60}, "breakout-room"),
    ],
)
def test_settings_that_are_refused_on_a_breakout_room(
    client_for: ClientFor,
    breakout_rooms: list[Conversation],
    owner: User,
    method: str,
    suffix: str,
    params: dict[str, Any],
    key: str,
) -> None:
    response = getattr(client_for(owner), method)(url(breakout_rooms[0], suffix), params)

    assert response.status_code == 400
    assert ocs_error(response) == key
    stored = Conversation.objects.get(pk=breakout_rooms[0].pk)
    assert (stored.lobby_state, stored.listable, stored.type, stored.password, stored.message_expiration) == (
        1,
        0,
        2,
        "",
        0,
    )
    assert system_messages(breakout_rooms[0]) == []


def test_unchanged_listable_and_private_on_a_breakout_room_are_no_ops(
    client_for: ClientFor, breakout_rooms: list[Conversation], owner: User
) -> None:
    listable = client_for(owner).put(url(breakout_rooms[0], "/listable"), {"scope": 0})
    private = client_for(owner).delete(url(breakout_rooms[0], "/public"))

    assert (listable.status_code, private.status_code) == (200, 200)
    assert system_messages(breakout_rooms[0]) == []


def test_a_configured_parent_cannot_become_public(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User
) -> None:
    response = client_for(owner).post(url(room, "/public"))

    assert response.status_code == 400
    assert ocs_error(response) == "breakout-room"
    assert Conversation.objects.get(pk=room.pk).type == 2


def test_the_lobby_of_a_configured_parent_can_still_be_set(
    client_for: ClientFor, room: Conversation, breakout_rooms: list[Conversation], owner: User
) -> None:
    response = client_for(owner).put(url(room, "/webinar/lobby"), {"state": 1})

    assert response.status_code == 200
    assert Conversation.objects.get(pk=room.pk).lobby_state == 1
    assert list(Conversation.objects.filter(parent=room).values_list("lobby_state", flat=True)) == [1, 1]
