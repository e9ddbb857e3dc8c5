"""Conversation services (conversations/services/*.py) called directly, and their lock paths
under real concurrency (PostgreSQL only)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from conversations.models import Attendee, ChatMessage, Conversation, User
from conversations.services.chat import chat_message_text_validate
from conversations.services.lifecycle import conversation_create_one_to_one, one_to_one_name
from conversations.services.moderators import attendee_demote, attendee_promote
from conversations.services.participants import participants_add
from project.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, ServiceError
from tests.concurrency import exceptions_of, run_together
from tests.conftest import requires_postgres
from tests.conversations.helpers import attendee_of, breakout_rooms_build, types_by_room
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory


def test_one_to_one_name_is_the_sorted_json_pair() -> None:
    assert one_to_one_name(["zoe", "adam"]) == '["adam","zoe"]'


def test_one_to_one_creation_is_idempotent(owner: User, student: User) -> None:
    first, first_created = conversation_create_one_to_one(actor=owner, invite="student")
    second, second_created = conversation_create_one_to_one(actor=student, invite="owner")

    assert (first_created, second_created) == (True, False)
    assert first.pk == second.pk
    assert Attendee.objects.filter(room=first).count() == 2


def test_one_to_one_creation_re_adds_a_user_who_left(owner: User, student: User) -> None:
    room, _ = conversation_create_one_to_one(actor=owner, invite="student")
    Attendee.objects.filter(room=room, user=owner).delete()

    again, created = conversation_create_one_to_one(actor=owner, invite="student")

    assert (again.pk, created) == (room.pk, False)
    assert attendee_of(room, owner).participant_type == 1


def test_a_pair_whose_name_does_not_fit_the_column_is_refused_with_invite(db: None) -> None:
    actor = UserFactory(username="a" * 150)
    UserFactory(username="u" * 150)

    with pytest.raises(BadRequest) as raised:
        conversation_create_one_to_one(actor=actor, invite="u" * 150)

    assert raised.value.key == "invite"
    assert not Conversation.objects.exists()


def test_promote_of_an_attendee_of_another_room_is_not_found(room: Conversation, owner: User) -> None:
    stranger = AttendeeFactory(room=ConversationFactory())

    with pytest.raises(NotFound):
        attendee_promote(actor=owner, room=room, attendee_id=stranger.pk)

    assert Attendee.objects.get(pk=stranger.pk).participant_type == 3


def test_a_moderator_cannot_demote_the_owner(room: Conversation, owner: User, moderator: User) -> None:
    with pytest.raises(Forbidden):
        attendee_demote(actor=moderator, room=room, attendee_id=attendee_of(room, owner).pk)

    assert attendee_of(room, owner).participant_type == 1


def test_promote_returns_the_attendee_with_its_new_type(room: Conversation, owner: User, student: User) -> None:
    attendee = attendee_promote(actor=owner, room=room, attendee_id=attendee_of(room, student).pk)

    assert attendee.participant_type == 2
    assert attendee_of(room, student).participant_type == 2


def test_adding_a_student_keeps_them_in_one_breakout_room(room: Conversation, owner: User, student: User) -> None:
    rooms = breakout_rooms_build(room, count=3)

    for target in [rooms[0], rooms[2], rooms[1], rooms[1]]:
        participants_add(actor=owner, room=target, new_participant=student.username, source="users")

    assert types_by_room(student, room) == {"Class": 3, "Room 2": 3}


@pytest.mark.parametrize(
    ("text", "error"),
    [("", BadRequest), ("\x0b\0 ", BadRequest), ("a" * 32001, PayloadTooLarge)],
)
def test_chat_text_validation(text: str, error: type[ServiceError]) -> None:
    with pytest.raises(error) as raised:
        chat_message_text_validate(text)

    assert raised.value.key == "message"


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_one_to_one_creation_of_the_same_pair_yields_one_room() -> None:
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")

    def create(actor: User, invite: str) -> Callable[[], Any]:
        return lambda: conversation_create_one_to_one(actor=actor, invite=invite)

    outcomes = run_together([create(alice, "bob") if i % 2 else create(bob, "alice") for i in range(8)])

    assert exceptions_of(outcomes) == []
    room = Conversation.objects.get(type=Conversation.Type.ONE_TO_ONE)
    assert room.name == '["alice","bob"]'
    assert sorted(Attendee.objects.filter(room=room).values_list("actor_id", "participant_type")) == [
        ("alice", 1),
        ("bob", 1),
    ]
    assert ChatMessage.objects.filter(room=room, system_message="conversation_created").count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_promote_and_demote_keep_the_moderator_invariant() -> None:
    owner = UserFactory(username="owner")
    student = UserFactory(username="student")
    parent = ConversationFactory(name="Class")
    AttendeeFactory(room=parent, user=owner, participant_type=1)
    target = AttendeeFactory(room=parent, user=student, participant_type=3)
    rooms = breakout_rooms_build(parent, count=5)
    AttendeeFactory(room=rooms[2], user=student, participant_type=3)

    def change(promote: bool) -> Callable[[], Any]:
        service = attendee_promote if promote else attendee_demote

        def job() -> None:
            # BadRequest = already in the requested state: a legitimate answer under concurrency.
            with contextlib.suppress(BadRequest):
                service(actor=owner, room=parent, attendee_id=target.pk)

        return job

    for _ in range(3):
        outcomes = run_together([change(i % 2 == 0) for i in range(8)])

        assert exceptions_of(outcomes) == []
        parent_type = Attendee.objects.get(pk=target.pk).participant_type
        in_breakout_rooms = list(
            Attendee.objects.filter(breakout_parent=parent, user=student).values_list("participant_type", flat=True)
        )
        if parent_type == 2:
            assert sorted(in_breakout_rooms) == [2] * 5
        else:
            assert parent_type == 3
            assert in_breakout_rooms == []
        for breakout_room in rooms:
            assert Attendee.objects.filter(room=breakout_room, user=owner, participant_type=1).exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_promotion_racing_a_move_into_another_breakout_room_keeps_both_invariants() -> None:
    owner = UserFactory(username="owner")
    parent = ConversationFactory(name="Class")
    AttendeeFactory(room=parent, user=owner, participant_type=1)
    rooms = breakout_rooms_build(parent, count=4)
    students = [UserFactory(username=f"student{i}") for i in range(4)]
    parent_rows = [AttendeeFactory(room=parent, user=student, participant_type=3) for student in students]
    for student in students:
        AttendeeFactory(room=rooms[0], user=student, participant_type=3)

    def promote(row: Attendee) -> Callable[[], Any]:
        return lambda: attendee_promote(actor=owner, room=parent, attendee_id=row.pk)

    def move(student: User, target: Conversation) -> Callable[[], Any]:
        def job() -> None:
            # BadRequest("moderator") = the promotion won: a moderator is not moved like a student.
            with contextlib.suppress(BadRequest):
                participants_add(actor=owner, room=target, new_participant=student.username, source="users")

        return job

    jobs: list[Callable[[], Any]] = []
    for index, student in enumerate(students):
        jobs += [promote(parent_rows[index]), move(student, rooms[1 + index % 3]), move(student, rooms[3])]
    outcomes = run_together(jobs)

    assert exceptions_of(outcomes) == []
    for student in students:
        assert Attendee.objects.get(room=parent, user=student).participant_type == 2
        assert sorted(
            Attendee.objects.filter(breakout_parent=parent, user=student).values_list("participant_type", flat=True)
        ) == [2, 2, 2, 2], student.username


def test_promotion_with_a_row_read_before_a_configure_still_reaches_the_new_rooms(
    room: Conversation, owner: User, student: User
) -> None:
    # A request reads the parent, then a configure commits before the promotion takes the lock:
    # the decision to propagate must use the row read under the lock, not the stale one.
    stale_parent = Conversation.objects.get(pk=room.pk)
    breakout_rooms = breakout_rooms_build(room, count=3)

    attendee_promote(actor=owner, room=stale_parent, attendee_id=attendee_of(room, student).pk)

    assert types_by_room(student, room) == {
        "Class": Attendee.ParticipantType.MODERATOR,
        **{breakout.name: Attendee.ParticipantType.MODERATOR for breakout in breakout_rooms},
    }
