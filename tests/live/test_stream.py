"""The event stream: who receives what, resuming, errors (in-process, Django's AsyncClient)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import app_password_create
from conversations.models import Attendee, Conversation
from live.models import Event
from live.services import NewEvent, events_prune, events_record, events_record_bulk
from tests.conftest import V1
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory
from tests.live.streams import EVENTS_URL, Frame, read_stream


@pytest.fixture(autouse=True)
def _fast_heartbeat(settings: Any) -> None:
    # A heartbeat ends each read that waits for "nothing more": short, so the tests are quick.
    settings.LIVE_HEARTBEAT_SECONDS = 0.2


def count(n: int) -> Any:
    return lambda frames: len([f for f in frames if f.event is not None]) >= n


def post(client_for: Callable[[User], APIClient], user: User, room: Conversation, text: str) -> int:
    response = client_for(user).post(f"{V1}/chat/{room.token}", {"message": text})
    assert response.status_code == 201
    return response.json()["ocs"]["data"]["id"]


def test_a_posted_message_reaches_every_attendee_with_the_common_fields(
    client_for: Callable[[User], APIClient], room: Conversation, owner: User, student: User
) -> None:
    message_id = post(client_for, student, room, "hello")

    for user in (owner, student):
        read = read_stream(user, params={"lastEventId": 0}, until=count(1))

        assert read.status == 200
        assert read.content_type == "text/event-stream; charset=utf-8"
        (frame,) = read.events
        event = Event.objects.get()
        assert (frame.id, frame.event) == (event.id, "chat.message")
        assert frame.data == {
            "type": "chat.message",
            "token": room.token,
            "parentToken": None,
            "actorId": "student",
            "timestamp": int(event.created_at.timestamp()),
            "messageId": message_id,
        }


def test_an_outsider_receives_nothing_not_even_that_the_room_exists(
    client_for: Callable[[User], APIClient], room: Conversation, student: User, outsider: User
) -> None:
    post(client_for, student, room, "hello")

    read = read_stream(outsider, params={"lastEventId": 0})

    assert read.status == 200
    assert read.events == []
    assert any("heartbeat" in c for f in read.frames for c in f.comments)


def test_without_last_event_id_the_stream_starts_with_what_happens_next(
    client_for: Callable[[User], APIClient], room: Conversation, student: User
) -> None:
    post(client_for, student, room, "before")

    read = read_stream(student)

    assert read.events == []


def test_resume_with_last_event_id_loses_and_repeats_nothing(
    client_for: Callable[[User], APIClient], room: Conversation, owner: User, student: User
) -> None:
    ids = [post(client_for, student, room, f"m{i}") for i in range(4)]
    first = read_stream(owner, params={"lastEventId": 0}, until=count(2))
    seen = [f.data["messageId"] for f in first.events][:2]

    rest = read_stream(owner, headers={"Last-Event-ID": str(first.events[1].id)}, until=count(2))
    after = read_stream(owner, headers={"Last-Event-ID": str(rest.events[-1].id)})

    assert seen + [f.data["messageId"] for f in rest.events] == ids
    assert after.events == []


def test_a_resume_older_than_the_retention_window_gets_a_reset(
    client_for: Callable[[User], APIClient], room: Conversation, student: User
) -> None:
    ids = [post(client_for, student, room, f"m{i}") for i in range(3)]
    events = list(Event.objects.order_by("id"))
    Event.objects.filter(pk__in=[events[0].pk, events[1].pk]).update(created_at=timezone.now() - timedelta(hours=25))
    events_prune(older_than_hours=24)

    behind = read_stream(student, params={"lastEventId": events[0].pk}, until=count(1))
    in_window = read_stream(student, params={"lastEventId": events[1].pk}, until=count(1))

    assert [(f.event, f.id) for f in behind.events] == [("reset", events[2].pk)]
    assert [f.data["messageId"] for f in in_window.events] == ids[2:]


def tree(owner: User, student: User, moderator: User) -> tuple[Conversation, Conversation, Conversation]:
    parent = ConversationFactory(name="Parent")
    AttendeeFactory(room=parent, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    AttendeeFactory(room=parent, user=moderator, participant_type=Attendee.ParticipantType.MODERATOR)
    AttendeeFactory(room=parent, user=student, participant_type=Attendee.ParticipantType.USER)
    rooms = (ConversationFactory(name="Room 1", parent=parent), ConversationFactory(name="Room 2", parent=parent))
    AttendeeFactory(room=rooms[0], user=student, participant_type=Attendee.ParticipantType.USER)
    return parent, rooms[0], rooms[1]


def types(frames: list[Frame]) -> list[tuple[str | None, str]]:
    return [(f.event, f.data["token"]) for f in frames]


def test_switchto_reaches_its_target_and_the_moderators_only(owner: User, moderator: User, student: User) -> None:
    parent, room1, room2 = tree(owner, student, moderator)
    classmate = UserFactory(username="classmate")
    AttendeeFactory(room=parent, user=classmate, participant_type=Attendee.ParticipantType.USER)
    with transaction.atomic():
        events_record_bulk(
            events=[
                NewEvent(type="breakout.started", token=parent.token, actor_id="owner"),
                NewEvent(
                    type="breakout.switchto",
                    token=parent.token,
                    actor_id="owner",
                    target_user_id="student",
                    payload={"target": room1.token},
                ),
            ]
        )

    to_student = read_stream(student, params={"lastEventId": 0}, until=count(2))
    to_classmate = read_stream(classmate, params={"lastEventId": 0})
    to_moderator = read_stream(moderator, params={"lastEventId": 0}, until=count(2))

    assert types(to_student.events) == [("breakout.started", parent.token), ("breakout.switchto", parent.token)]
    assert to_student.events[1].data["target"] == room1.token
    assert types(to_classmate.events) == [("breakout.started", parent.token)]
    assert types(to_moderator.events) == types(to_student.events)


def test_moderators_of_a_parent_receive_the_events_of_every_breakout_room(
    owner: User, moderator: User, student: User
) -> None:
    parent, room1, room2 = tree(owner, student, moderator)
    with transaction.atomic():
        events_record(type="breakout.assistance", token=room1.token, parent_token=parent.token, payload={"status": 2})
        events_record(type="chat.message", token=room2.token, parent_token=parent.token, payload={"messageId": 1})

    to_moderator = read_stream(moderator, params={"lastEventId": 0}, until=count(2))
    to_student = read_stream(student, params={"lastEventId": 0})

    assert types(to_moderator.events) == [("breakout.assistance", room1.token), ("chat.message", room2.token)]
    assert to_moderator.events[0].data["parentToken"] == parent.token
    assert types(to_student.events) == [("breakout.assistance", room1.token)]  # room 1 only: not in room 2


def test_token_follows_one_tree(owner: User, moderator: User, student: User, room: Conversation) -> None:
    parent, room1, _ = tree(owner, student, moderator)
    with transaction.atomic():
        events_record(type="chat.message", token=room.token, payload={"messageId": 1})
        events_record(type="chat.message", token=room1.token, parent_token=parent.token, payload={"messageId": 2})

    read = read_stream(student, params={"lastEventId": 0, "token": room1.token}, until=count(1))

    assert types(read.events) == [("chat.message", room1.token)]


def test_anonymous_gets_401_in_the_envelope(db: None) -> None:
    read = read_stream(None)

    assert read.status == 401
    assert read.body.startswith(b'{"ocs"')


def test_following_a_conversation_of_others_is_404(room: Conversation, outsider: User) -> None:
    read = read_stream(outsider, params={"token": room.token})

    assert read.status == 404


@pytest.mark.parametrize("value", ["-1", "x", "1.5"])
def test_a_bad_last_event_id_is_400(student: User, value: str) -> None:
    read = read_stream(student, params={"lastEventId": value})

    assert read.status == 400
    assert b'"lastEventId"' in read.body


def test_basic_auth_with_an_app_password_is_accepted(student: User) -> None:
    _, secret = app_password_create(user=student)
    credentials = base64.b64encode(f"student:{secret}".encode()).decode()

    response = Client().get(EVENTS_URL, {"token": "nope"}, headers={"Authorization": f"Basic {credentials}"})

    assert response.status_code == 404  # authenticated, then the unknown token
