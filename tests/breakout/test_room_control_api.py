"""Room names, one room at a time and the assistance queue (issue 11, extensions
``breakout-rooms-names``, ``breakout-rooms-single``, ``breakout-rooms-assistance-queue``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from breakout.models import AssistanceRequest
from breakout.services import assistance, control, lifecycle
from breakout.services.assistance import ClaimedError
from conversations.models import Attendee, Conversation
from live.models import Event
from tests.breakout.conftest import add_students, breakout_rooms, parent_attendee
from tests.concurrency import run_together
from tests.conftest import V1, V4, ocs_data, ocs_error, requires_postgres
from tests.helpers import system_messages

Client = Callable[[User], APIClient]
SIZES = pytest.mark.parametrize(("students", "rooms"), [(4, 2), (40, 8)], ids=["small", "large"])


def configure(client: APIClient, token: str, **params: Any) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}", params, format="json")


def open_room(client: APIClient, token: str) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}/open")


def close_room(client: APIClient, token: str) -> Any:
    return client.delete(f"{V1}/breakout-rooms/{token}/open")


def queue(client: APIClient, token: str) -> Any:
    return client.get(f"{V1}/breakout-rooms/{token}/assistance")


def claim(client: APIClient, token: str) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}/assistance/claim")


def lobby(room: Conversation) -> int:
    room.refresh_from_db()
    return room.lobby_state


@pytest.fixture
def student_in_first(room: Conversation, owner: User, student: User, started: Callable[..., list]) -> list:
    """Started in mode 2 with the student in the first room."""
    return started(mode=2, attendee_map=json.dumps({parent_attendee(room, student).pk: 0}))


# -- names --------------------------------------------------------------------------------------


def test_configure_names_the_rooms_in_order_trimmed(client_for: Client, room: Conversation, owner: User) -> None:
    response = configure(client_for(owner), room.token, mode=3, amount=3, names=json.dumps([" Algebra ", "B", "C"]))

    assert response.status_code == 200
    assert [r.name for r in breakout_rooms(room)] == ["Algebra", "B", "C"]
    assert [entry["name"] for entry in ocs_data(response)[:3]] == ["Algebra", "B", "C"]


def test_configure_takes_names_as_a_json_list_and_as_a_form_string(
    client_for: Client, room: Conversation, owner: User
) -> None:
    response = client_for(owner).post(
        f"{V1}/breakout-rooms/{room.token}", {"mode": "1", "amount": "2", "names": '["x", "y"]'}
    )
    assert response.status_code == 200
    assert [r.name for r in breakout_rooms(room)] == ["x", "y"]


def test_configure_without_names_keeps_talks_room_names(client_for: Client, room: Conversation, owner: User) -> None:
    configure(client_for(owner), room.token, mode=1, amount=2)

    assert [r.name for r in breakout_rooms(room)] == ["Room 1", "Room 2"]


@pytest.mark.parametrize(
    "names",
    [
        json.dumps(["only one"]),
        json.dumps(["a", "b", "c"]),
        json.dumps(["same", " same"]),
        json.dumps(["", "b"]),
        json.dumps(["   ", "b"]),
        json.dumps(["a" * 256, "b"]),
        json.dumps(["a", 2]),
        json.dumps({"0": "a", "1": "b"}),
        "not json",
        json.dumps("ab"),
        json.dumps(["a\u0000", "b"]),
    ],
)
def test_configure_refuses_bad_names_and_changes_nothing(
    client_for: Client, room: Conversation, owner: User, names: str
) -> None:
    response = configure(client_for(owner), room.token, mode=1, amount=2, names=names)

    assert response.status_code == 400
    assert ocs_error(response) == "names"
    assert breakout_rooms(room) == []
    room.refresh_from_db()
    assert room.breakout_room_mode == 0


def test_configure_accepts_a_name_of_255_characters(client_for: Client, room: Conversation, owner: User) -> None:
    response = configure(client_for(owner), room.token, mode=1, amount=1, names=json.dumps(["n" * 255]))

    assert response.status_code == 200


def test_the_service_checks_names_itself(room: Conversation, owner: User) -> None:
    from project.errors import BadRequest

    with pytest.raises(BadRequest) as raised:
        lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={}, names=["a", "a"])

    assert raised.value.key == "names"
    assert breakout_rooms(room) == []


def test_an_extra_room_may_not_take_the_name_of_another_room_of_the_parent(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured(amount=2)
    create = {"roomType": 2, "roomName": "Room 1", "objectType": "room", "objectId": room.token}

    taken = client_for(owner).post(f"{V4}/room", create, format="json")
    fresh = client_for(owner).post(f"{V4}/room", {**create, "roomName": "Room 3"}, format="json")

    assert taken.status_code == 400
    assert ocs_error(taken) == "name"
    assert fresh.status_code == 201
    assert [r.name for r in breakout_rooms(room)] == ["Room 1", "Room 2", "Room 3"]


def test_a_rename_may_not_take_the_name_of_another_room_of_the_parent(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(amount=2)

    taken = client_for(owner).put(f"{V4}/room/{rooms[1].token}", {"roomName": "Room 1"}, format="json")
    same = client_for(owner).put(f"{V4}/room/{rooms[1].token}", {"roomName": "Room 2"}, format="json")
    other = client_for(owner).put(f"{V4}/room/{rooms[1].token}", {"roomName": "Geometry"}, format="json")

    assert taken.status_code == 400
    assert ocs_error(taken) == "name"
    assert same.status_code == other.status_code == 200
    assert [r.name for r in breakout_rooms(room)] == ["Room 1", "Geometry"]


# -- one room at a time -------------------------------------------------------------------------


@pytest.mark.parametrize("call", [open_room, close_room])
def test_open_and_close_require_a_login(anonymous_client: APIClient, room: Conversation, call: Any) -> None:
    assert call(anonymous_client, room.token).status_code == 401


@pytest.mark.parametrize("call", [open_room, close_room])
def test_open_and_close_answer_an_outsider_404_and_a_student_403(
    client_for: Client, outsider: User, student: User, student_in_first: list, call: Any
) -> None:
    target = student_in_first[0]

    assert call(client_for(outsider), target.token).status_code == 404
    assert call(client_for(student), target.token).status_code == 403
    assert lobby(target) == Conversation.Lobby.NONE


@pytest.mark.parametrize("call", [open_room, close_room])
def test_open_and_close_refuse_the_parent_with_room(
    client_for: Client, room: Conversation, owner: User, started: Callable[..., list], call: Any
) -> None:
    started()

    response = call(client_for(owner), room.token)

    assert response.status_code == 400
    assert ocs_error(response) == "room"


@pytest.mark.parametrize("call", [open_room, close_room])
def test_open_and_close_of_stopped_rooms_are_400_status(
    client_for: Client, owner: User, configured: Callable[..., list], call: Any
) -> None:
    rooms = configured()

    response = call(client_for(owner), rooms[0].token)

    assert response.status_code == 400
    assert ocs_error(response) == "status"
    assert lobby(rooms[0]) == Conversation.Lobby.NON_MODERATORS


def test_closing_one_room_sends_its_students_to_the_parent_and_opening_brings_them_back(
    client_for: Client, room: Conversation, moderator: User, student: User, student_in_first: list
) -> None:
    first, second = student_in_first
    before = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0  # start's own switchto

    closed = close_room(client_for(moderator), first.token)

    assert closed.status_code == 200
    assert ocs_data(closed)["lobbyState"] == Conversation.Lobby.NON_MODERATORS
    assert lobby(first) == Conversation.Lobby.NON_MODERATORS
    assert lobby(second) == Conversation.Lobby.NONE
    room.refresh_from_db()
    assert room.breakout_room_status == Conversation.BreakoutStatus.STARTED
    assert Attendee.objects.filter(room=first, user=student).exists()  # they come back to it
    assert system_messages(first)[-1] == "breakout_room_closed"
    switch = Event.objects.filter(type="breakout.switchto", target_user_id="student", id__gt=before).get()
    assert switch.payload == {"target": room.token}
    assert client_for(student).get(f"{V4}/room/{first.token}/participants").status_code == 412

    opened = open_room(client_for(moderator), first.token)

    assert opened.status_code == 200
    assert lobby(first) == Conversation.Lobby.NONE
    assert system_messages(first)[-1] == "breakout_room_opened"
    back = Event.objects.filter(type="breakout.switchto", target_user_id="student").order_by("-id").first()
    assert back is not None and back.payload == {"target": first.token}


def test_closing_a_closed_room_changes_nothing(client_for: Client, owner: User, student_in_first: list) -> None:
    first = student_in_first[0]
    close_room(client_for(owner), first.token)
    messages = system_messages(first)

    again = close_room(client_for(owner), first.token)

    assert again.status_code == 200
    assert system_messages(first) == messages


def test_a_closed_room_refuses_switches_with_400_target(
    client_for: Client, room: Conversation, owner: User, student: User, started: Callable[..., list]
) -> None:
    rooms = started(mode=3)
    close_room(client_for(owner), rooms[0].token)

    refused = client_for(student).post(f"{V1}/breakout-rooms/{room.token}/switch", {"target": rooms[0].token})
    allowed = client_for(student).post(f"{V1}/breakout-rooms/{room.token}/switch", {"target": rooms[1].token})

    assert refused.status_code == 400
    assert ocs_error(refused) == "target"
    assert allowed.status_code == 200
    assert not Attendee.objects.filter(room=rooms[0], user=student).exists()


def test_reorganize_keeps_a_closed_room_closed(
    client_for: Client, room: Conversation, owner: User, student: User, started: Callable[..., list]
) -> None:
    rooms = started(mode=2)
    close_room(client_for(owner), rooms[0].token)

    lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map={parent_attendee(room, student).pk: 0})

    assert Attendee.objects.filter(room=rooms[0], user=student).exists()
    assert lobby(rooms[0]) == Conversation.Lobby.NON_MODERATORS
    assert client_for(student).get(f"{V4}/room/{rooms[0].token}/participants").status_code == 412


def test_start_opens_a_closed_room_and_stop_closes_them_all(
    client_for: Client, room: Conversation, owner: User, started: Callable[..., list]
) -> None:
    rooms = started()
    close_room(client_for(owner), rooms[0].token)

    lifecycle.breakout_start(actor=owner, parent=room)
    assert [lobby(r) for r in rooms] == [0, 0]
    close_room(client_for(owner), rooms[1].token)
    lifecycle.breakout_stop(actor=owner, parent=room)
    assert [lobby(r) for r in rooms] == [1, 1]


@SIZES
def test_close_and_open_query_counts_do_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=rooms, attendee_map={})
    lifecycle.breakout_start(actor=owner, parent=room)
    target = breakout_rooms(room)[0]
    extra = 1 if _postgres() else 0

    # SAVEPOINT; lock the parent; the room under the lock; the caller's row in the parent;
    # UPDATE the room's lobby; INSERT the system message, UPDATE last activity; SELECT the room's
    # students; the events (its chat.message and the switchtos, one batch: advisory lock on
    # PostgreSQL, INSERT); RELEASE.
    with django_assert_num_queries(10 + extra):
        control.breakout_room_close(actor=owner, room=target)
    with django_assert_num_queries(10 + extra):
        control.breakout_room_open(actor=owner, room=target)
    students_there = Attendee.objects.filter(room=target, participant_type=Attendee.ParticipantType.USER)
    asker = students_there.select_related("user").first()
    assert asker is not None and asker.user is not None
    lifecycle.assistance_request(actor=asker.user, room=target)
    # As the close above, and UPDATE the open request (the room's flag goes in the lobby's UPDATE).
    with django_assert_num_queries(11 + extra):
        control.breakout_room_close(actor=owner, room=target)


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


# -- assistance queue ---------------------------------------------------------------------------


def request_help(client: APIClient, token: str) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}/request-assistance")


def test_a_request_records_who_asked_and_the_queue_shows_it(
    client_for: Client, room: Conversation, owner: User, student: User, student_in_first: list
) -> None:
    first = student_in_first[0]

    request_help(client_for(student), first.token)
    request_help(client_for(student), first.token)  # the same request, not a second one
    response = queue(client_for(owner), room.token)

    assert response.status_code == 200
    [entry] = ocs_data(response)
    request = AssistanceRequest.objects.get()
    assert entry == {
        "id": request.pk,
        "roomToken": first.token,
        "roomName": "Room 1",
        "requestedBy": "student",
        "requestedByDisplayName": "Student Person",
        "requestedAt": int(request.requested_at.timestamp()),
        "claimedBy": None,
        "claimedByDisplayName": None,
        "claimedAt": None,
    }


def test_the_queue_lists_open_requests_of_all_rooms_oldest_first(
    client_for: Client, room: Conversation, owner: User, started: Callable[..., list]
) -> None:
    pupils = add_students(room, 2)
    rooms = started(mode=2, attendee_map=json.dumps({parent_attendee(room, p).pk: i for i, p in enumerate(pupils)}))

    request_help(client_for(pupils[1]), rooms[1].token)
    request_help(client_for(pupils[0]), rooms[0].token)
    client_for(pupils[0]).delete(f"{V1}/breakout-rooms/{rooms[0].token}/request-assistance")
    request_help(client_for(pupils[0]), rooms[0].token)

    entries = ocs_data(queue(client_for(owner), room.token))

    assert [(e["roomToken"], e["requestedBy"]) for e in entries] == [
        (rooms[1].token, pupils[1].username),
        (rooms[0].token, pupils[0].username),
    ]


def test_the_queue_answers_an_outsider_404_a_student_403_and_anonymous_401(
    client_for: Client, anonymous_client: APIClient, room: Conversation, outsider: User, student: User
) -> None:
    assert queue(anonymous_client, room.token).status_code == 401
    assert queue(client_for(outsider), room.token).status_code == 404
    assert queue(client_for(student), room.token).status_code == 403


def test_a_moderator_claims_a_request_and_a_second_claim_is_409_with_who_holds_it(
    client_for: Client, room: Conversation, owner: User, moderator: User, student: User, student_in_first: list
) -> None:
    first = student_in_first[0]
    request_help(client_for(student), first.token)

    taken = claim(client_for(moderator), first.token)
    again = claim(client_for(moderator), first.token)
    second = claim(client_for(owner), first.token)

    assert taken.status_code == again.status_code == 200
    assert ocs_data(taken)["claimedBy"] == "moderator"
    assert ocs_data(taken)["claimedByDisplayName"] == "Moderator Person"
    assert second.status_code == 409
    assert ocs_data(second) == {
        "error": "claimed",
        "claimedBy": "moderator",
        "claimedByDisplayName": "Moderator Person",
    }
    [entry] = ocs_data(queue(client_for(owner), room.token))
    assert entry["claimedBy"] == "moderator" and entry["claimedAt"] is not None
    [event] = Event.objects.filter(type="breakout.assistance", actor_id="moderator", payload__claimedBy="moderator")
    assert event.payload == {"status": 2, "claimedBy": "moderator"}
    assert event.parent_token == room.token


def test_claim_answers_anonymous_401_an_outsider_404_and_a_student_403(
    client_for: Client, anonymous_client: APIClient, outsider: User, student: User, student_in_first: list
) -> None:
    first = student_in_first[0]
    request_help(client_for(student), first.token)

    assert claim(anonymous_client, first.token).status_code == 401
    assert claim(client_for(outsider), first.token).status_code == 404
    assert claim(client_for(student), first.token).status_code == 403
    assert AssistanceRequest.objects.get().claimed_by is None


def test_claim_without_an_open_request_is_400_status_and_of_a_parent_400_room(
    client_for: Client, room: Conversation, owner: User, student_in_first: list
) -> None:
    none_open = claim(client_for(owner), student_in_first[0].token)
    parent = claim(client_for(owner), room.token)

    assert none_open.status_code == 400
    assert ocs_error(none_open) == "status"
    assert parent.status_code == 400
    assert ocs_error(parent) == "room"


def test_reset_stop_and_remove_end_requests_and_the_history_reports_the_waits(
    client_for: Client, room: Conversation, owner: User, student: User, student_in_first: list
) -> None:
    first = student_in_first[0]
    request_help(client_for(student), first.token)
    claim(client_for(owner), first.token)
    client_for(student).delete(f"{V1}/breakout-rooms/{first.token}/request-assistance")
    request_help(client_for(student), first.token)
    lifecycle.breakout_stop(actor=owner, parent=room)

    assert ocs_data(queue(client_for(owner), room.token)) == []
    assert list(AssistanceRequest.objects.order_by("id").values_list("ended_how", flat=True)) == ["reset", "stopped"]

    history = ocs_data(client_for(owner).get(f"{V1}/breakout-rooms/{room.token}/history"))
    reported = history["rounds"][0]["assistance"]
    assert [(r["requestedBy"], r["claimedBy"], r["endedHow"]) for r in reported] == [
        ("student", "owner", "reset"),
        ("student", None, "stopped"),
    ]
    assert reported[0]["secondsToClaim"] >= 0 and reported[0]["secondsToEnd"] >= reported[0]["secondsToClaim"]
    assert reported[1]["secondsToClaim"] is None and reported[1]["secondsToEnd"] >= 0


def test_removing_the_rooms_ends_open_requests(
    client_for: Client, room: Conversation, owner: User, student: User, student_in_first: list
) -> None:
    request_help(client_for(student), student_in_first[0].token)

    lifecycle.breakout_remove(actor=owner, parent=room)

    assert AssistanceRequest.objects.get().ended_how == "removed"


def test_closing_a_room_ends_its_open_request_as_a_stop_would(
    client_for: Client, room: Conversation, owner: User, moderator: User, student: User, started: Callable[..., list]
) -> None:
    other = add_students(room, 1)[0]
    attendee_map = {parent_attendee(room, student).pk: 0, parent_attendee(room, other).pk: 1}
    first, second = started(mode=2, attendee_map=json.dumps(attendee_map))
    request_help(client_for(student), first.token)
    request_help(client_for(other), second.token)
    claim(client_for(moderator), first.token)
    before = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = close_room(client_for(owner), first.token)

    assert response.status_code == 200
    assert ocs_data(response)["breakoutRoomStatus"] == 0
    first.refresh_from_db()
    assert (first.lobby_state, first.breakout_room_status) == (1, 0)
    ended = AssistanceRequest.objects.get(room_id=first.pk)
    assert ended.ended_how == "stopped" and ended.ended_at is not None
    assert [e["roomToken"] for e in ocs_data(queue(client_for(owner), room.token))] == [second.token]
    assert AssistanceRequest.objects.get(room_id=second.pk).ended_at is None
    [event] = Event.objects.filter(pk__gt=before, type="breakout.assistance")
    assert (event.token, event.parent_token, event.actor_id, event.payload) == (
        first.token,
        room.token,
        "owner",
        {"status": 0},
    )
    # Open again, the room can ask anew: the ended request is not in the way.
    open_room(client_for(owner), first.token)
    assert request_help(client_for(student), first.token).status_code == 200
    assert AssistanceRequest.objects.filter(room_id=first.pk, ended_at__isnull=True).count() == 1


def test_closing_a_room_ends_its_request_in_the_same_transaction(
    room: Conversation, owner: User, student: User, student_in_first: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = student_in_first[0]
    lifecycle.assistance_request(actor=student, room=first)

    def fail(**kwargs: Any) -> None:
        raise RuntimeError("the switchto events could not be written")

    with monkeypatch.context() as patched:
        patched.setattr("live.services.events_insert", fail)
        with pytest.raises(RuntimeError):
            control.breakout_room_close(actor=owner, room=first)

    first.refresh_from_db()
    assert (first.lobby_state, first.breakout_room_status) == (0, 2)
    assert AssistanceRequest.objects.get().ended_at is None
    control.breakout_room_close(actor=owner, room=first)
    assert AssistanceRequest.objects.get().ended_how == "stopped"


@SIZES
def test_queue_and_claim_query_counts_do_not_grow(
    client_for: Client,
    room: Conversation,
    owner: User,
    django_assert_num_queries: Callable,
    students: int,
    rooms: int,
) -> None:
    pupils = add_students(room, students)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=rooms, attendee_map={})
    lifecycle.breakout_start(actor=owner, parent=room)
    for pupil in pupils:
        row = Attendee.objects.filter(room__parent=room, user=pupil).select_related("room").first()
        if row is not None:
            lifecycle.assistance_request(actor=pupil, room=row.room)
    target = breakout_rooms(room)[0]
    client = client_for(owner)

    # The caller's row (access check); the open requests with who asked and who claimed.
    with django_assert_num_queries(2):
        response = queue(client, room.token)
    assert len(ocs_data(response)) == rooms

    # SAVEPOINT; lock the parent; the room; the caller's row in the parent; the open request;
    # UPDATE the claim; the event (advisory lock on PostgreSQL, INSERT); RELEASE.
    with django_assert_num_queries(8 + (1 if _postgres() else 0)):
        assistance.assistance_claim(actor=owner, room=target)


# -- two moderators claiming at once (PostgreSQL, real threads) ---------------------------------


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_moderators_claiming_at_once_exactly_one_wins(
    room: Conversation, owner: User, moderator: User, student: User
) -> None:
    lifecycle.breakout_configure(
        actor=owner, parent=room, mode=2, amount=2, attendee_map={parent_attendee(room, student).pk: 0}
    )
    lifecycle.breakout_start(actor=owner, parent=room)
    first = breakout_rooms(room)[0]

    for _ in range(5):
        lifecycle.assistance_request(actor=student, room=first)
        results = run_together(
            [
                lambda: assistance.assistance_claim(actor=owner, room=first),
                lambda: assistance.assistance_claim(actor=moderator, room=first),
            ]
        )

        winners = [r for r in results if isinstance(r, AssistanceRequest)]
        losers = [r for r in results if isinstance(r, ClaimedError)]
        assert len(winners) == 1 and len(losers) == 1, results
        request = AssistanceRequest.objects.get(room_id=first.pk, ended_at__isnull=True)
        assert request.claimed_by_actor_id == winners[0].claimed_by_actor_id
        assert losers[0].data["claimedBy"] == request.claimed_by_actor_id
        assert Event.objects.filter(type="breakout.assistance", payload__claimedBy__isnull=False).count() >= 1
        lifecycle.assistance_reset(actor=student, room=first)
