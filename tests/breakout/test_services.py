"""The lifecycle services called directly: the happy path with the state re-read from the
database, each domain error with its contract key, and the caller's role read under the tree
lock (a request authorised before the lock, whose caller was removed or demoted meanwhile)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings

from accounts.models import AppConfigValue, User
from breakout.services import lifecycle
from conversations.models import Attendee, ChatMessage, Conversation
from project.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, ServiceError
from tests.breakout.conftest import add_students, breakout_rooms, members, parent_attendee
from tests.factories import AttendeeFactory, ConversationFactory
from tests.helpers import system_messages

Configured = Callable[..., list[Conversation]]


def error_of(call: Callable[[], object]) -> tuple[type[ServiceError], str | None]:
    with pytest.raises(ServiceError) as caught:
        call()
    return type(caught.value), caught.value.key


def reloaded(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


def demote(room: Conversation, user: User) -> None:
    Attendee.objects.filter(room=room, user=user).update(participant_type=Attendee.ParticipantType.USER)


def vanish(room: Conversation) -> None:
    """Delete ``room``'s row (and what cascades) while the caller still holds the instance."""
    Conversation.objects.filter(pk=room.pk).delete()


# --- configure -----------------------------------------------------------------------------------


def test_configure_creates_the_rooms_and_places_moderators_everywhere(
    room: Conversation, owner: User, moderator: User, student: User
) -> None:
    parent = lifecycle.breakout_configure(
        actor=owner, parent=room, mode=2, amount=2, attendee_map={parent_attendee(room, student).pk: 1}
    )

    rooms = breakout_rooms(room)
    assert parent.breakout_room_mode == reloaded(room).breakout_room_mode == Conversation.BreakoutMode.MANUAL
    assert [r.name for r in rooms] == ["Room 1", "Room 2"]
    assert members(rooms[0]) == {"owner": 1, "moderator": 2}
    assert members(rooms[1]) == {"owner": 1, "moderator": 2, "student": 3}


def test_configure_ignores_the_map_outside_manual_mode(room: Conversation, owner: User) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=3, amount=2, attendee_map={1: 99})

    assert len(breakout_rooms(room)) == 2


@pytest.mark.parametrize(
    ("mode", "amount", "attendee_map", "key"),
    [
        (0, 2, {}, "mode"),
        (4, 2, {}, "mode"),
        (1, 0, {}, "amount"),
        (1, 21, {}, "amount"),
        (2, 2, {1: 2}, "attendeeMap"),
        (2, 2, {1: -1}, "attendeeMap"),
        (2, 2, {0: 0}, "attendeeMap"),
    ],
)
def test_configure_refuses_bad_values_and_changes_nothing(
    room: Conversation, owner: User, mode: int, amount: int, attendee_map: dict[int, int], key: str
) -> None:
    assert error_of(
        lambda: lifecycle.breakout_configure(
            actor=owner, parent=room, mode=mode, amount=amount, attendee_map=attendee_map
        )
    ) == (BadRequest, key)
    assert reloaded(room).breakout_room_mode == 0
    assert breakout_rooms(room) == []


def test_configure_checks_the_config_before_the_parent(room: Conversation, owner: User, configured: Configured) -> None:
    configured()
    AppConfigValue.objects.create(key="breakout_rooms", value="no")

    assert error_of(
        lambda: lifecycle.breakout_configure(actor=owner, parent=room, mode=0, amount=0, attendee_map={})
    ) == (BadRequest, "config")


@pytest.mark.parametrize("kind", ["configured", "public", "breakout room"])
def test_configure_refuses_a_parent_that_cannot_have_breakout_rooms(
    room: Conversation, owner: User, configured: Configured, kind: str
) -> None:
    parent = room
    if kind == "configured":
        configured()
    elif kind == "public":
        Conversation.objects.filter(pk=room.pk).update(type=Conversation.Type.PUBLIC)
    else:
        parent = configured()[0]

    assert error_of(
        lambda: lifecycle.breakout_configure(actor=owner, parent=parent, mode=1, amount=2, attendee_map={})
    ) == (BadRequest, "room")


def test_configure_rereads_the_callers_role_under_the_lock(
    room: Conversation, moderator: User, student: User, outsider: User
) -> None:
    demote(room, moderator)

    def configure(user: User) -> Callable[[], object]:
        return lambda: lifecycle.breakout_configure(actor=user, parent=room, mode=1, amount=2, attendee_map={})

    assert error_of(configure(moderator)) == (Forbidden, None)
    assert error_of(configure(student)) == (Forbidden, None)
    assert error_of(configure(outsider)) == (NotFound, None)
    assert breakout_rooms(room) == []


def test_configure_as_an_operator_needs_no_attendee_row(room: Conversation, outsider: User) -> None:
    lifecycle.breakout_configure(actor=outsider, parent=room, mode=1, amount=3, attendee_map={}, as_operator=True)

    assert len(breakout_rooms(room)) == 3


def test_configure_of_a_parent_deleted_meanwhile_is_404(room: Conversation, owner: User) -> None:
    vanish(room)

    assert error_of(
        lambda: lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={})
    ) == (NotFound, None)


# --- remove --------------------------------------------------------------------------------------


def test_remove_deletes_the_rooms_and_resets_the_parent(
    room: Conversation, owner: User, configured: Configured
) -> None:
    configured()
    lifecycle.breakout_start(actor=owner, parent=room)

    lifecycle.breakout_remove(actor=owner, parent=room)

    parent = reloaded(room)
    assert (parent.breakout_room_mode, parent.breakout_room_status) == (0, 0)
    assert breakout_rooms(room) == []


def test_remove_rereads_the_callers_role_under_the_lock(
    room: Conversation, moderator: User, outsider: User, configured: Configured
) -> None:
    configured()
    demote(room, moderator)

    assert error_of(lambda: lifecycle.breakout_remove(actor=moderator, parent=room)) == (Forbidden, None)
    assert error_of(lambda: lifecycle.breakout_remove(actor=outsider, parent=room)) == (NotFound, None)
    assert len(breakout_rooms(room)) == 2
    lifecycle.breakout_remove(actor=outsider, parent=room, as_operator=True)
    assert breakout_rooms(room) == []


def test_remove_of_a_parent_deleted_meanwhile_is_404(room: Conversation, owner: User) -> None:
    vanish(room)

    assert error_of(lambda: lifecycle.breakout_remove(actor=owner, parent=room)) == (NotFound, None)


# --- start and stop ------------------------------------------------------------------------------


def test_start_opens_the_rooms_and_stop_closes_them(room: Conversation, owner: User, configured: Configured) -> None:
    configured()

    lifecycle.breakout_start(actor=owner, parent=room)
    started = reloaded(room).breakout_room_status, [r.lobby_state for r in breakout_rooms(room)]
    lifecycle.breakout_stop(actor=owner, parent=room)
    stopped = reloaded(room).breakout_room_status, [r.lobby_state for r in breakout_rooms(room)]

    assert started == (Conversation.BreakoutStatus.STARTED, [0, 0])
    assert stopped == (Conversation.BreakoutStatus.STOPPED, [1, 1])
    assert system_messages(breakout_rooms(room)[0])[-2:] == ["breakout_rooms_started", "breakout_rooms_stopped"]


@pytest.mark.parametrize("service", [lifecycle.breakout_start, lifecycle.breakout_stop])
def test_start_and_stop_need_configured_rooms(room: Conversation, owner: User, service: Callable) -> None:
    assert error_of(lambda: service(actor=owner, parent=room)) == (BadRequest, "mode")


@pytest.mark.parametrize("service", [lifecycle.breakout_start, lifecycle.breakout_stop])
def test_start_and_stop_reread_the_callers_role_under_the_lock(
    room: Conversation, moderator: User, outsider: User, configured: Configured, service: Callable
) -> None:
    configured()
    demote(room, moderator)

    assert error_of(lambda: service(actor=moderator, parent=room)) == (Forbidden, None)
    assert error_of(lambda: service(actor=outsider, parent=room)) == (NotFound, None)
    assert ChatMessage.objects.filter(system_message__startswith="breakout_rooms_").count() == 0


@pytest.mark.parametrize("service", [lifecycle.breakout_start, lifecycle.breakout_stop])
def test_start_and_stop_of_a_parent_deleted_meanwhile_are_404(
    room: Conversation, owner: User, configured: Configured, service: Callable
) -> None:
    configured()
    vanish(room)

    assert error_of(lambda: service(actor=owner, parent=room)) == (NotFound, None)


# --- broadcast -----------------------------------------------------------------------------------


def test_broadcast_posts_the_trimmed_message_into_every_room(
    room: Conversation, owner: User, configured: Configured
) -> None:
    rooms = configured(amount=3)

    lifecycle.breakout_broadcast(actor=owner, parent=room, message="  Hello  ")

    posted = ChatMessage.objects.filter(message_type=ChatMessage.Type.COMMENT).order_by("room_id")
    assert [(m.room_id, m.message, m.actor_id) for m in posted] == [(r.pk, "Hello", "owner") for r in rooms]


@pytest.mark.parametrize(
    ("message", "error"),
    [(" \n\t", (BadRequest, "message")), ("x" * (settings.CHAT_MAX_LENGTH + 1), (PayloadTooLarge, "message"))],
    ids=["empty", "too long"],
)
def test_broadcast_refuses_an_empty_or_over_long_message(
    room: Conversation, owner: User, configured: Configured, message: str, error: tuple
) -> None:
    configured()

    assert error_of(lambda: lifecycle.breakout_broadcast(actor=owner, parent=room, message=message)) == error
    assert not ChatMessage.objects.filter(message_type=ChatMessage.Type.COMMENT).exists()


def test_broadcast_checks_the_mode_before_the_message(room: Conversation, owner: User) -> None:
    assert error_of(lambda: lifecycle.breakout_broadcast(actor=owner, parent=room, message="")) == (BadRequest, "mode")


def test_broadcast_rereads_the_callers_role_under_the_lock(
    room: Conversation, moderator: User, configured: Configured
) -> None:
    configured()
    demote(room, moderator)

    assert error_of(lambda: lifecycle.breakout_broadcast(actor=moderator, parent=room, message="hi")) == (
        Forbidden,
        None,
    )


# --- reorganize ----------------------------------------------------------------------------------


def test_reorganize_moves_the_mapped_students(
    room: Conversation, owner: User, student: User, configured: Configured
) -> None:
    rooms = configured(mode=2)
    pupil = add_students(room, 1)[0]

    lifecycle.breakout_reorganize(
        actor=owner,
        parent=room,
        attendee_map={parent_attendee(room, student).pk: 1, parent_attendee(room, pupil).pk: 0},
    )

    assert "student" in members(rooms[1]) and "pupil0" in members(rooms[0])


@pytest.mark.parametrize(("attendee_map", "key"), [({1: 2}, "attendeeMap"), ({1: -1}, "attendeeMap")])
def test_reorganize_checks_the_indices_against_the_current_rooms(
    room: Conversation, owner: User, configured: Configured, attendee_map: dict[int, int], key: str
) -> None:
    configured(amount=2)

    assert error_of(lambda: lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map=attendee_map)) == (
        BadRequest,
        key,
    )


def test_reorganize_refuses_to_move_a_moderator(
    room: Conversation, owner: User, moderator: User, student: User, configured: Configured
) -> None:
    rooms = configured(mode=2)
    attendee_map = {parent_attendee(room, moderator).pk: 0, parent_attendee(room, student).pk: 1}

    assert error_of(lambda: lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map=attendee_map)) == (
        BadRequest,
        "moderator",
    )
    assert "student" not in members(rooms[1])


def test_reorganize_checks_config_then_mode(room: Conversation, owner: User) -> None:
    assert error_of(lambda: lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map={1: 5})) == (
        BadRequest,
        "mode",
    )
    AppConfigValue.objects.create(key="breakout_rooms", value="no")
    assert error_of(lambda: lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map={1: 5})) == (
        BadRequest,
        "config",
    )


def test_reorganize_rereads_the_callers_role_under_the_lock(
    room: Conversation, moderator: User, outsider: User, configured: Configured
) -> None:
    configured()
    demote(room, moderator)

    assert error_of(lambda: lifecycle.breakout_reorganize(actor=moderator, parent=room, attendee_map={})) == (
        Forbidden,
        None,
    )
    assert error_of(lambda: lifecycle.breakout_reorganize(actor=outsider, parent=room, attendee_map={})) == (
        NotFound,
        None,
    )


# --- assistance ----------------------------------------------------------------------------------


def test_assistance_is_requested_and_reset_in_a_started_room(
    room: Conversation, owner: User, student: User, configured: Configured
) -> None:
    breakout = configured(mode=2, attendee_map=f'{{"{parent_attendee(room, student).pk}": 0}}')[0]
    lifecycle.breakout_start(actor=owner, parent=room)

    lifecycle.assistance_request(actor=student, room=breakout)
    asked = reloaded(breakout).breakout_room_status
    lifecycle.assistance_reset(actor=student, room=breakout)

    assert asked == Conversation.BreakoutStatus.ASSISTANCE_REQUESTED
    assert reloaded(breakout).breakout_room_status == Conversation.BreakoutStatus.STOPPED


@pytest.mark.parametrize("service", [lifecycle.assistance_request, lifecycle.assistance_reset])
def test_assistance_needs_a_started_breakout_room(
    room: Conversation, owner: User, configured: Configured, service: Callable
) -> None:
    breakout = configured()[0]

    assert error_of(lambda: service(actor=owner, room=room)) == (BadRequest, "room")
    assert error_of(lambda: service(actor=owner, room=breakout)) == (BadRequest, "room")


def test_assistance_of_a_caller_removed_from_the_room_meanwhile_is_404(
    room: Conversation, owner: User, student: User, configured: Configured
) -> None:
    breakout = configured(mode=2, attendee_map=f'{{"{parent_attendee(room, student).pk}": 0}}')[0]
    lifecycle.breakout_start(actor=owner, parent=room)
    Attendee.objects.filter(room=breakout, user=student).delete()

    assert error_of(lambda: lifecycle.assistance_request(actor=student, room=breakout)) == (NotFound, None)
    assert reloaded(breakout).breakout_room_status == Conversation.BreakoutStatus.STOPPED


def test_assistance_in_a_room_deleted_meanwhile_is_404(room: Conversation, owner: User, configured: Configured) -> None:
    breakout = configured()[0]
    lifecycle.breakout_start(actor=owner, parent=room)
    vanish(breakout)

    assert error_of(lambda: lifecycle.assistance_request(actor=owner, room=breakout)) == (NotFound, None)


# --- switch --------------------------------------------------------------------------------------


def test_switch_moves_the_student_into_the_target_room_only(
    room: Conversation, owner: User, student: User, configured: Configured
) -> None:
    rooms = configured(mode=3)
    lifecycle.breakout_start(actor=owner, parent=room)

    lifecycle.breakout_switch(actor=student, parent=room, target=rooms[0].token)
    target = lifecycle.breakout_switch(actor=student, parent=room, target=rooms[1].token)

    assert target == rooms[1]
    assert list(Attendee.objects.filter(breakout_parent=room, user=student).values_list("room_id", flat=True)) == [
        rooms[1].pk
    ]


def test_switch_errors_in_the_contracts_order(
    room: Conversation, owner: User, moderator: User, student: User, configured: Configured
) -> None:
    other = ConversationFactory()
    AttendeeFactory(room=other, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    lifecycle.breakout_configure(actor=owner, parent=other, mode=3, amount=1, attendee_map={})
    foreign = breakout_rooms(other)[0].token

    rooms = configured(mode=1)
    assert error_of(lambda: lifecycle.breakout_switch(actor=student, parent=room, target="x")) == (BadRequest, "mode")
    lifecycle.breakout_remove(actor=owner, parent=room)
    rooms = configured(mode=3)
    assert error_of(lambda: lifecycle.breakout_switch(actor=student, parent=room, target="x")) == (
        BadRequest,
        "status",
    )
    lifecycle.breakout_start(actor=owner, parent=room)
    assert error_of(lambda: lifecycle.breakout_switch(actor=moderator, parent=room, target=rooms[0].token)) == (
        BadRequest,
        "moderator",
    )
    assert error_of(lambda: lifecycle.breakout_switch(actor=student, parent=room, target=foreign)) == (
        BadRequest,
        "target",
    )


def test_switch_of_a_student_removed_meanwhile_is_404(
    room: Conversation, owner: User, student: User, configured: Configured
) -> None:
    rooms = configured(mode=3)
    lifecycle.breakout_start(actor=owner, parent=room)
    Attendee.objects.filter(room=room, user=student).delete()

    assert error_of(lambda: lifecycle.breakout_switch(actor=student, parent=room, target=rooms[0].token)) == (
        NotFound,
        None,
    )
    assert not Attendee.objects.filter(breakout_parent=room, user=student).exists()
