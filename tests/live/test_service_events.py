"""The services write their events (issue 9): each listed type reaches the right users through
the stream, nothing reaches an outsider, a rolled-back change writes nothing, and a long poll
wakes on system messages and reactions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from accounts.models import User
from breakout.services import lifecycle
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.services import moderators, participants, reactions
from conversations.services.chat import chat_message_post
from live.models import Event
from project.errors import BadRequest
from tests.breakout.conftest import breakout_rooms
from tests.conftest import V1, ocs_data
from tests.factories import AttendeeFactory, UserFactory
from tests.live.streams import Frame, read_stream


@pytest.fixture(autouse=True)
def _fast_heartbeat(settings: Any) -> None:
    settings.LIVE_HEARTBEAT_SECONDS = 0.2


def seen(user: User, **params: Any) -> list[Frame]:
    """Every event ``user`` receives from the start of the outbox."""
    return read_stream(user, params={"lastEventId": 0, **params}).events


def kinds(frames: list[Frame]) -> list[str]:
    return [f.event or "" for f in frames]


def of_type(frames: list[Frame], type: str) -> list[dict[str, Any]]:
    return [f.data for f in frames if f.event == type]


@pytest.fixture
def classmate(room: Conversation) -> User:
    user = UserFactory(username="classmate")
    AttendeeFactory(room=room, user=user, participant_type=Attendee.ParticipantType.USER)
    return user


def configure(room: Conversation, owner: User, student: User, classmate: User) -> list[Conversation]:
    """Two rooms, the student in room 1 and the classmate in room 2."""
    ids = {a.user_id: a.pk for a in Attendee.objects.filter(room=room)}
    lifecycle.breakout_configure(
        actor=owner, parent=room, mode=2, amount=2, attendee_map={ids[student.pk]: 0, ids[classmate.pk]: 1}
    )
    return breakout_rooms(room)


def test_configure_announces_the_rooms_and_who_joined_them(
    room: Conversation, owner: User, moderator: User, student: User, classmate: User, outsider: User
) -> None:
    room1, room2 = configure(room, owner, student, classmate)

    to_moderator = seen(moderator)
    to_student = seen(student)

    (configured,) = of_type(to_moderator, "breakout.configured")
    assert configured | {"timestamp": 0} == {
        "type": "breakout.configured",
        "token": room.token,
        "parentToken": None,
        "actorId": "owner",
        "timestamp": 0,
        "mode": 2,
        "amount": 2,
        "rooms": [room1.token, room2.token],
    }
    added = {e["token"]: e for e in of_type(to_moderator, "participants.changed")}
    assert set(added) == {room1.token, room2.token}
    assert added[room1.token]["change"] == "added"
    assert added[room1.token]["parentToken"] == room.token
    assert set(added[room1.token]["actorIds"]) == {"owner", "moderator", "student"}
    # The conversation_created and user_added system messages: one chat.message per room.
    assert sorted(e["token"] for e in of_type(to_moderator, "chat.message")) == sorted([room1.token, room2.token])
    # The student sees the parent's event and their own room's, not the classmate's room.
    assert {e["token"] for e in of_type(to_student, "participants.changed")} == {room1.token}
    assert of_type(to_student, "breakout.configured")
    assert seen(outsider) == []


def test_start_sends_each_student_to_their_room_and_stop_back_to_the_parent(
    room: Conversation, owner: User, moderator: User, student: User, classmate: User, outsider: User
) -> None:
    room1, room2 = configure(room, owner, student, classmate)
    first = Event.objects.order_by("-id").values_list("id", flat=True).first()

    lifecycle.breakout_start(actor=owner, parent=room)
    lifecycle.breakout_stop(actor=owner, parent=room)

    to_student = read_stream(student, params={"lastEventId": first}).events
    to_moderator = read_stream(moderator, params={"lastEventId": first}).events
    switches = [(e["token"], e["target"]) for e in of_type(to_student, "breakout.switchto")]
    assert switches == [(room.token, room1.token), (room1.token, room.token)]
    assert [(e["token"], e["target"]) for e in of_type(to_moderator, "breakout.switchto")] == [
        (room.token, room1.token),
        (room.token, room2.token),
        (room1.token, room.token),
        (room2.token, room.token),
    ]
    assert "breakout.started" in kinds(to_student) and "breakout.stopped" in kinds(to_student)
    # breakout_rooms_started / stopped are system messages of the rooms: they wake the chat.
    assert {e["token"] for e in of_type(to_student, "chat.message")} == {room1.token}
    assert read_stream(outsider, params={"lastEventId": first}).events == []


def test_a_switchto_reaches_its_target_and_the_moderators_only(
    room: Conversation, owner: User, moderator: User, student: User, classmate: User
) -> None:
    configure(room, owner, student, classmate)
    lifecycle.breakout_start(actor=owner, parent=room)

    classmate_switches = of_type(seen(classmate), "breakout.switchto")
    moderator_switches = of_type(seen(moderator), "breakout.switchto")

    assert [e["actorId"] for e in classmate_switches] == ["owner"]
    assert len(moderator_switches) == 2


def test_reorganize_of_a_started_tree_sends_only_the_moved_students(
    room: Conversation, owner: User, moderator: User, student: User, classmate: User
) -> None:
    room1, room2 = configure(room, owner, student, classmate)
    lifecycle.breakout_start(actor=owner, parent=room)
    first = Event.objects.order_by("-id").values_list("id", flat=True).first()
    ids = {a.user_id: a.pk for a in Attendee.objects.filter(room=room)}

    lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map={ids[student.pk]: 1, ids[classmate.pk]: 1})

    events = read_stream(moderator, params={"lastEventId": first}).events
    assert [(e["token"], e["target"]) for e in of_type(events, "breakout.switchto")] == [(room1.token, room2.token)]
    changes = {(e["token"], e["change"]) for e in of_type(events, "participants.changed")}
    assert changes == {(room1.token, "removed"), (room2.token, "added")}


def test_a_student_switching_rooms_is_told_to_join_the_target(
    room: Conversation, owner: User, student: User, classmate: User
) -> None:
    room1, room2 = configure(room, owner, student, classmate)
    Conversation.objects.filter(pk=room.pk).update(breakout_room_mode=Conversation.BreakoutMode.FREE)
    lifecycle.breakout_start(actor=owner, parent=room)
    first = Event.objects.order_by("-id").values_list("id", flat=True).first()

    lifecycle.breakout_switch(actor=student, parent=room, target=room2.token)

    events = read_stream(student, params={"lastEventId": first}).events
    (switch,) = of_type(events, "breakout.switchto")
    assert (switch["token"], switch["target"], switch["actorId"]) == (room1.token, room2.token, "student")


def test_assistance_broadcast_and_remove_have_their_events(
    room: Conversation, owner: User, moderator: User, student: User, classmate: User, outsider: User
) -> None:
    room1, room2 = configure(room, owner, student, classmate)
    lifecycle.breakout_start(actor=owner, parent=room)
    lifecycle.assistance_request(actor=student, room=room1)
    lifecycle.assistance_reset(actor=student, room=room1)
    lifecycle.breakout_broadcast(actor=owner, parent=room, message="Two minutes left")
    lifecycle.breakout_remove(actor=owner, parent=room)

    to_moderator = seen(moderator)
    to_classmate = seen(classmate)

    assistance = of_type(to_moderator, "breakout.assistance")
    assert [(e["token"], e["parentToken"], e["status"]) for e in assistance] == [
        (room1.token, room.token, 2),
        (room1.token, room.token, 0),
    ]
    assert of_type(to_classmate, "breakout.assistance") == []  # room 1's business
    (broadcast,) = of_type(to_moderator, "breakout.broadcast")
    assert len(broadcast["messageIds"]) == 2  # one message per room (deleted since, with the rooms)
    broadcast_wakes = [e for e in of_type(to_moderator, "chat.message") if e["messageId"] in broadcast["messageIds"]]
    assert {e["token"] for e in broadcast_wakes} == {room1.token, room2.token}
    assert of_type(to_classmate, "breakout.removed") == [of_type(to_moderator, "breakout.removed")[0]]
    assert seen(outsider) == []


def test_participant_changes_carry_what_changed(
    room: Conversation, owner: User, moderator: User, student: User, outsider: User
) -> None:
    owner_row = Attendee.objects.get(room=room, user=owner)
    student_row = Attendee.objects.get(room=room, user=student)

    participants.participants_add(actor=owner, room=room, new_participant="outsider", source="users")
    moderators.attendee_promote(actor=owner, room=room, attendee_id=student_row.pk)
    moderators.attendee_demote(actor=owner, room=room, attendee_id=student_row.pk)
    participants.attendee_remove(actor=owner, room=room, attendee_id=student_row.pk)
    participants.participant_leave(actor=moderator, room=room)

    changes = [(e["change"], e["actorIds"]) for e in of_type(seen(owner), "participants.changed")]
    assert changes == [
        ("added", ["outsider"]),
        ("promoted", ["student"]),
        ("demoted", ["student"]),
        ("removed", ["student"]),
        ("left", ["moderator"]),
    ]
    assert of_type(seen(owner), "participants.changed")[0]["attendeeIds"] != [owner_row.pk]


def test_a_rolled_back_change_writes_no_event(room: Conversation, owner: User, student: User, classmate: User) -> None:
    configure(room, owner, student, classmate)
    before = Event.objects.count()

    with pytest.raises(BadRequest):  # already configured: 400 "room", nothing written
        lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={})
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.breakout_start(actor=owner, parent=room)
        raise RuntimeError("the change fails after its events were recorded")

    assert Event.objects.count() == before


def test_a_reaction_posts_talks_system_messages_and_a_reaction_event(
    room: Conversation, owner: User, student: User
) -> None:
    comment = chat_message_post(attendee=Attendee.objects.get(room=room, user=owner), message="well done")
    reacting = Attendee.objects.select_related("room").get(room=room, user=student)

    reactions.reaction_add(attendee=reacting, message_id=comment.pk, reaction="👍")
    reactions.reaction_remove(attendee=reacting, message_id=comment.pk, reaction="👍")

    system = list(
        ChatMessage.objects.filter(room=room, reply_to=comment).order_by("id").values_list("system_message", "actor_id")
    )
    assert system == [("reaction_deleted", "student"), ("reaction_revoked", "student")]
    events = seen(owner)
    assert [
        {k: e[k] for k in ("messageId", "reaction", "added", "actorId")} for e in of_type(events, "chat.reaction")
    ] == [
        {"messageId": comment.pk, "reaction": "👍", "added": True, "actorId": "student"},
        {"messageId": comment.pk, "reaction": "👍", "added": False, "actorId": "student"},
    ]
    wakes = [e["messageId"] for e in of_type(events, "chat.message")]
    assert wakes[-2:] == list(
        ChatMessage.objects.filter(room=room, reply_to=comment).order_by("id").values_list("id", flat=True)
    )


def long_poll_while(client: APIClient, room: Conversation, last: int, change: Callable[[], None]) -> Any:
    """Long-poll ``room`` after message ``last`` while another thread makes ``change``."""

    def later() -> None:
        try:
            threading.Event().wait(0.5)
            change()
        finally:
            connection.close()

    thread = threading.Thread(target=later)
    thread.start()
    response = client.get(f"{V1}/chat/{room.token}", {"lookIntoFuture": 1, "lastKnownMessageId": last, "timeout": 20})
    thread.join()
    return response


@pytest.mark.django_db(transaction=True)
def test_a_long_poll_wakes_on_a_system_message(
    client_for: Callable[[User], APIClient], room: Conversation, owner: User, student: User
) -> None:
    last = chat_message_post(attendee=Attendee.objects.get(room=room, user=owner), message="hi").pk
    UserFactory(username="late")

    response = long_poll_while(
        client_for(student),
        room,
        last,
        lambda: participants.participants_add(actor=owner, room=room, new_participant="late", source="users"),
    )

    assert response.status_code == 200
    assert [m["systemMessage"] for m in ocs_data(response)] == ["user_added"]


@pytest.mark.django_db(transaction=True)
def test_a_long_poll_wakes_on_a_reaction_with_the_reacted_message_as_parent(
    client_for: Callable[[User], APIClient], room: Conversation, owner: User, student: User
) -> None:
    comment = chat_message_post(attendee=Attendee.objects.get(room=room, user=student), message="my answer")
    reacting = Attendee.objects.select_related("room").get(room=room, user=owner)

    response = long_poll_while(
        client_for(student),
        room,
        comment.pk,
        lambda: reactions.reaction_add(attendee=reacting, message_id=comment.pk, reaction="🎉"),
    )

    assert response.status_code == 200
    (message,) = ocs_data(response)
    assert (message["systemMessage"], message["message"], message["actorId"]) == ("reaction", "🎉", "owner")
    assert message["parent"]["id"] == comment.pk
    assert message["parent"]["reactions"] == {"🎉": 1}
