"""Conversation services (conversations/services/*.py) called directly, and their lock paths
under real concurrency (PostgreSQL only)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from breakout.services.tree_rules import BreakoutTreeRules
from conversations import hooks
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.services.chat import chat_message_post, chat_message_text_validate
from conversations.services.lifecycle import (
    breakout_room_create_extra,
    conversation_create_one_to_one,
    one_to_one_name,
)
from conversations.services.lobby import conversation_lobby_open_if_timer_passed, conversation_lobby_set
from conversations.services.moderators import attendee_demote, attendee_promote
from conversations.services.participants import attendee_remove, participants_add
from conversations.services.primitives import (
    Placement,
    SystemMessage,
    attendees_place,
    rich_user,
    service_actor,
    system_messages_post,
)
from conversations.services.room_settings import (
    conversation_description_set,
    conversation_public_set,
    conversation_rename,
)
from project.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, PreconditionFailed, ServiceError
from tests.concurrency import exceptions_of, run_together
from tests.conversations.helpers import attendee_of, breakout_rooms_build, types_by_room
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory
from tests.helpers import requires_postgres, system_messages


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


# --- the split services: lock, re-read under the lock, typed values ---------------------------------


def test_a_caller_demoted_before_the_lock_cannot_promote(room: Conversation, moderator: User, student: User) -> None:
    # The view saw a moderator; a demotion committed before this service took the tree lock.
    Attendee.objects.filter(room=room, user=moderator).update(participant_type=Attendee.ParticipantType.USER)

    with pytest.raises(Forbidden):
        attendee_promote(actor=moderator, room=room, attendee_id=attendee_of(room, student).pk)

    assert attendee_of(room, student).participant_type == 3


def test_a_caller_removed_before_the_lock_cannot_rename(room: Conversation, moderator: User) -> None:
    Attendee.objects.filter(room=room, user=moderator).delete()

    with pytest.raises(NotFound):
        conversation_rename(actor=moderator, room=room, name="Taken over")

    assert Conversation.objects.get(pk=room.pk).name == room.name


def test_a_room_deleted_while_waiting_for_the_lock_is_not_found(room: Conversation, owner: User) -> None:
    stale = Conversation.objects.get(pk=room.pk)
    Conversation.objects.filter(pk=room.pk).delete()

    with pytest.raises(NotFound):
        conversation_description_set(actor=owner, room=stale, description="gone")


def test_a_breakout_room_whose_parent_vanished_is_not_found(room: Conversation, owner: User) -> None:
    breakout_room = breakout_rooms_build(room, count=1)[0]
    stale = Conversation.objects.select_related("parent").get(pk=breakout_room.pk)
    Conversation.objects.filter(pk=room.pk).delete()

    with pytest.raises(NotFound):
        participants_add(actor=owner, room=stale, new_participant="student", source="users")


def test_a_chat_post_by_someone_removed_meanwhile_is_not_found(room: Conversation, student: User) -> None:
    attendee = Attendee.objects.select_related("room").get(room=room, user=student)
    Attendee.objects.filter(pk=attendee.pk).delete()

    with pytest.raises(NotFound):
        chat_message_post(attendee=attendee, message="hello")

    assert not ChatMessage.objects.filter(room=room, message_type=ChatMessage.Type.COMMENT).exists()


def test_a_chat_post_after_the_lobby_closed_meanwhile_is_a_precondition_failure(
    room: Conversation, student: User
) -> None:
    attendee = Attendee.objects.select_related("room").get(room=room, user=student)
    Conversation.objects.filter(pk=room.pk).update(lobby_state=Conversation.Lobby.NON_MODERATORS)

    with pytest.raises(PreconditionFailed):
        chat_message_post(attendee=attendee, message="hello")


def test_the_admin_rename_needs_no_attendee_row_and_posts_conversation_renamed(room: Conversation) -> None:
    operator = UserFactory(username="operator", is_staff=True)

    renamed = conversation_rename(actor=operator, room=room, name=" New name ", by_operator=True)

    assert renamed.name == "New name"
    assert system_messages(room)[-1] == "conversation_renamed"


def test_lobby_set_refuses_a_breakout_room_through_the_tree_rules(room: Conversation, owner: User) -> None:
    breakout_room = breakout_rooms_build(room, count=1)[0]

    with pytest.raises(BadRequest) as raised:
        conversation_lobby_set(actor=owner, room=breakout_room, state=0)

    assert raised.value.key == "breakout-room"


def test_without_tree_rules_a_breakout_room_lobby_is_a_plain_setting(
    room: Conversation, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The breakout app's registration is what refuses it: conversations alone has no such rule.
    monkeypatch.setattr(hooks, "_registered", hooks.TreeRules())
    breakout_room = breakout_rooms_build(room, count=1)[0]

    updated = conversation_lobby_set(actor=owner, room=breakout_room, state=0)

    assert updated.lobby_state == Conversation.Lobby.NONE


def test_the_breakout_app_registers_its_tree_rules() -> None:
    assert isinstance(hooks.tree_rules(), BreakoutTreeRules)


def test_opening_a_lobby_whose_timer_passed_posts_lobby_timer_reached_once(room: Conversation) -> None:
    Conversation.objects.filter(pk=room.pk).update(
        lobby_state=Conversation.Lobby.NON_MODERATORS, lobby_timer=timezone.now() - timedelta(seconds=1)
    )
    loaded = Conversation.objects.get(pk=room.pk)

    opened = conversation_lobby_open_if_timer_passed(room=loaded)
    again = conversation_lobby_open_if_timer_passed(room=Conversation.objects.get(pk=room.pk))

    assert (opened.lobby_state, opened.lobby_timer, again.lobby_state) == (0, None, 0)
    assert system_messages(room) == ["lobby_timer_reached"]


def test_a_lobby_timer_in_the_future_is_left_alone(room: Conversation) -> None:
    Conversation.objects.filter(pk=room.pk).update(
        lobby_state=Conversation.Lobby.NON_MODERATORS, lobby_timer=timezone.now() + timedelta(hours=1)
    )

    loaded = conversation_lobby_open_if_timer_passed(room=Conversation.objects.get(pk=room.pk))

    assert loaded.lobby_state == Conversation.Lobby.NON_MODERATORS
    assert system_messages(room) == []


def test_an_extra_breakout_room_gets_every_parent_moderator(room: Conversation, owner: User, moderator: User) -> None:
    breakout_rooms_build(room, count=1)

    extra = breakout_room_create_extra(actor=owner, parent_token=room.token, name="Extra", object_type="room")

    assert dict(Attendee.objects.filter(room=extra).values_list("actor_id", "participant_type")) == {
        "owner": Attendee.ParticipantType.OWNER,
        "moderator": Attendee.ParticipantType.MODERATOR,
    }


@pytest.mark.parametrize(
    ("change", "error"),
    [("demoted", "permissions"), ("removed", "room"), ("parent deleted", "room")],
)
def test_an_extra_breakout_room_rechecks_the_caller_and_parent_under_the_lock(
    room: Conversation, moderator: User, monkeypatch: pytest.MonkeyPatch, change: str, error: str
) -> None:
    from conversations.services import lifecycle

    breakout_rooms_build(room, count=1)
    lock = lifecycle.room_tree_lock

    def change_then_lock(target: Conversation) -> Conversation:
        # What a transaction that held the tree lock while this request waited leaves behind.
        if change == "demoted":
            Attendee.objects.filter(user=moderator).update(participant_type=Attendee.ParticipantType.USER)
        elif change == "removed":
            Attendee.objects.filter(user=moderator).delete()
        else:
            Conversation.objects.filter(pk=room.pk).delete()
        return lock(target)

    monkeypatch.setattr(lifecycle, "room_tree_lock", change_then_lock)

    with pytest.raises(BadRequest) as refused:
        breakout_room_create_extra(actor=moderator, parent_token=room.token, name="Extra", object_type="room")

    assert refused.value.data == {"error": error}
    assert not Conversation.objects.filter(name="Extra").exists()


def test_removal_from_a_parent_cascades_to_its_breakout_rooms(room: Conversation, owner: User, moderator: User) -> None:
    breakout_rooms_build(room, count=2)

    attendee_remove(actor=owner, room=room, attendee_id=attendee_of(room, moderator).pk)

    assert types_by_room(moderator, room) == {}


def test_public_is_refused_for_a_configured_parent(room: Conversation, owner: User) -> None:
    breakout_rooms_build(room, count=1)

    with pytest.raises(BadRequest) as raised:
        conversation_public_set(actor=owner, room=room, public=True)

    assert raised.value.key == "breakout-room"


@pytest.mark.parametrize("service", [False, True])
def test_user_added_built_by_the_database_matches_the_python_form(owner: User, service: bool) -> None:
    """``attendees_place`` has the database write the ``user_added`` messages from the new rows;
    they carry what ``system_messages_post`` writes for the same people, in placement order."""
    room = ConversationFactory(name="Fresh")
    actor = service_actor() if service else owner
    people = [UserFactory(username=f"u{i}", display_name=name) for i, name in enumerate(['Zoë "Z" Ñ', "Ann", "李"])]
    placements = [Placement.of_user(user, room, Attendee.ParticipantType.USER) for user in people]
    placements.insert(1, Placement.of_user(owner, room, Attendee.ParticipantType.MODERATOR))
    now = timezone.now()
    with transaction.atomic():
        ids = attendees_place(actor=actor, placements=placements, now=now)
    assert ids == sorted(ids) and len(ids) == 4
    placed = ChatMessage.objects.filter(room=room, system_message="user_added").order_by("id")
    expected_people = [p for p in placements if service or p.user_id != owner.pk]
    with transaction.atomic():
        system_messages_post(
            actor=actor,
            messages=[
                SystemMessage(room_id=room.pk, key="reference", user=rich_user(p.actor_id, p.display_name))
                for p in expected_people
            ],
            now=now,
        )
    reference = ChatMessage.objects.filter(room=room, system_message="reference").order_by("id")
    fields = ("actor_type", "actor_id", "actor_display_name", "message_type", "message", "created_at", "parameters")
    assert [m.parameters["user"]["id"] for m in placed] == [p.actor_id for p in expected_people]
    assert [[getattr(m, f) for f in fields] for m in placed] == [[getattr(m, f) for f in fields] for m in reference]
