"""Authorization and existence are decided under the tree lock (issue 8, defect 2).

A request passes its access checks, then waits for the tree lock while another transaction
removes or demotes the caller, or deletes the conversation. When it gets the lock it must answer
what the contract says for the state it finds: 404 for a caller who is no longer an attendee (or
a conversation that is gone), 403 for one who is no longer a moderator; never a success, never a
500. The first tests make that change at the moment the service asks for the lock (any
database); the last ones race real transactions on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from accounts.models import User
from breakout.services import lifecycle
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.services.chat import chat_message_post
from conversations.services.lifecycle import breakout_room_create_extra, conversation_delete
from conversations.services.moderators import attendee_promote
from conversations.services.participants import attendee_remove, participant_leave, participants_add
from conversations.services.primitives import conversation_tree_lock, conversation_tree_share_lock
from conversations.services.room_settings import conversation_description_set, conversation_rename
from project.errors import BadRequest, Forbidden, NotFound
from tests.breakout.conftest import breakout_rooms, parent_attendee
from tests.conftest import V1, ocs_data, requires_postgres

Configured = Callable[..., list[Conversation]]


def change_while_waiting(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    """Make ``change`` land just before the service takes the tree lock, as a transaction that
    held the lock while the request waited would have left it. (It is part of the request's
    transaction here, so the refused request rolls it back with everything else.)"""

    def lock_after_change(*, parent_id: int) -> Conversation:
        change()
        return conversation_tree_lock(parent_id=parent_id)

    def share_lock_after_change(*, parent_id: int) -> Conversation:
        change()
        return conversation_tree_share_lock(parent_id=parent_id)

    monkeypatch.setattr(lifecycle, "conversation_tree_lock", lock_after_change)
    monkeypatch.setattr(lifecycle, "conversation_tree_share_lock", share_lock_after_change)  # a switch's lock


def removed(user: User) -> Callable[[], None]:
    return lambda: Attendee.objects.filter(user=user).delete() and None


def demoted(user: User) -> Callable[[], None]:
    """What a demotion in the parent leaves (contract 4.4): a student of the parent, in no room."""

    def demote() -> None:
        Attendee.objects.filter(user=user, room__parent__isnull=False).delete()
        Attendee.objects.filter(user=user).update(participant_type=Attendee.ParticipantType.USER)

    return demote


def deleted(room: Conversation) -> Callable[[], None]:
    return lambda: Conversation.objects.filter(pk=room.pk).delete() and None


# (method, path suffix, body): the moderator endpoints on a configured, stopped parent.
MODERATOR_CALLS = [
    ("post", "/rooms", {}),
    ("delete", "/rooms", {}),
    ("delete", "", {}),
    ("post", "/broadcast", {"message": "hello"}),
    ("post", "/attendees", {"attendeeMap": "{}"}),
]


def call(client: APIClient, method: str, token: str, suffix: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(f"{V1}/breakout-rooms/{token}{suffix}", body, format="json")


@pytest.mark.parametrize(("method", "suffix", "body"), MODERATOR_CALLS)
@pytest.mark.parametrize(("change", "status"), [(removed, 404), (demoted, 403)], ids=["removed", "demoted"])
def test_a_moderator_who_lost_the_role_while_waiting_is_refused(
    client_for: Callable[[User], APIClient],
    room: Conversation,
    moderator: User,
    configured: Configured,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    suffix: str,
    body: dict[str, Any],
    change: Callable[[User], Callable[[], None]],
    status: int,
) -> None:
    rooms = configured()
    change_while_waiting(monkeypatch, change(moderator))

    response = call(client_for(moderator), method, room.token, suffix, body)

    assert response.status_code == status
    assert ocs_data(response) == []
    parent = Conversation.objects.get(pk=room.pk)
    assert (parent.breakout_room_mode, parent.breakout_room_status) == (1, 0)
    assert breakout_rooms(room) == rooms
    assert not ChatMessage.objects.filter(system_message__startswith="breakout_rooms_").exists()
    assert not ChatMessage.objects.filter(message_type=ChatMessage.Type.COMMENT).exists()


@pytest.mark.parametrize(("change", "status"), [(removed, 404), (demoted, 403)], ids=["removed", "demoted"])
def test_a_configure_whose_caller_lost_the_role_while_waiting_creates_nothing(
    client_for: Callable[[User], APIClient],
    room: Conversation,
    moderator: User,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[User], Callable[[], None]],
    status: int,
) -> None:
    change_while_waiting(monkeypatch, change(moderator))

    response = call(client_for(moderator), "post", room.token, "", {"mode": 1, "amount": 2})

    assert response.status_code == status
    assert breakout_rooms(room) == []


@pytest.mark.parametrize(
    ("method", "suffix", "body"), [*MODERATOR_CALLS, ("post", "", {"mode": 1, "amount": 2})], ids=str
)
def test_a_parent_deleted_while_waiting_is_404(
    client_for: Callable[[User], APIClient],
    room: Conversation,
    owner: User,
    configured: Configured,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    suffix: str,
    body: dict[str, Any],
) -> None:
    if suffix or method == "delete":
        configured()
    change_while_waiting(monkeypatch, deleted(room))

    response = call(client_for(owner), method, room.token, suffix, body)

    assert response.status_code == 404
    assert ocs_data(response) == []


def test_a_switch_of_a_student_removed_while_waiting_is_404(
    client_for: Callable[[User], APIClient],
    room: Conversation,
    owner: User,
    student: User,
    configured: Configured,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rooms = configured(mode=3)
    lifecycle.breakout_start(actor=owner, parent=room)
    change_while_waiting(monkeypatch, removed(student))

    response = call(client_for(student), "post", room.token, "/switch", {"target": rooms[0].token})

    assert response.status_code == 404
    assert not Attendee.objects.filter(user=student, room__parent=room).exists()


@pytest.mark.parametrize("method", ["post", "delete"])
@pytest.mark.parametrize("gone", ["caller", "room"])
def test_assistance_after_the_caller_or_the_room_vanished_while_waiting_is_404(
    client_for: Callable[[User], APIClient],
    room: Conversation,
    owner: User,
    student: User,
    configured: Configured,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    gone: str,
) -> None:
    breakout = configured(mode=2, attendee_map=f'{{"{parent_attendee(room, student).pk}": 0}}')[0]
    lifecycle.breakout_start(actor=owner, parent=room)
    change_while_waiting(monkeypatch, removed(student) if gone == "caller" else deleted(breakout))

    response = call(client_for(student), method, breakout.token, "/request-assistance", {})

    assert response.status_code == 404
    assert not Conversation.objects.filter(pk=breakout.pk, breakout_room_status=2).exists()


# --- real transactions on PostgreSQL --------------------------------------------------------------


def _blocked_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def race_against_lock_holder(parent: Conversation, change: Callable[[], None], request: Callable[[], Any]) -> Any:
    """Hold the tree lock of ``parent`` in one thread and make ``change`` in that transaction;
    start ``request`` in another thread; commit only once ``request`` waits for the lock. Returns
    the request's result or the exception it raised."""
    locked, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def holder() -> None:
        try:
            with transaction.atomic():
                conversation_tree_lock(parent_id=parent.pk)
                change()
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def requester() -> None:
        try:
            locked.wait(timeout=30)
            outcome["result"] = request()
        except Exception as exc:  # asserted on by the test
            outcome["result"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=holder), threading.Thread(target=requester)]
    for thread in threads:
        thread.start()
    try:
        assert locked.wait(timeout=30), "the lock holder never got the lock"
        for _ in range(3000):  # the requester blocks within milliseconds; this bounds a hang
            if _blocked_on_a_lock():
                break
            threading.Event().wait(0.01)
        else:
            raise AssertionError("the request never waited for the tree lock")
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return outcome["result"]


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("service", "change", "error"),
    [
        (lifecycle.breakout_start, removed, NotFound),
        (lifecycle.breakout_stop, removed, NotFound),
        (lifecycle.breakout_start, demoted, Forbidden),
        (lifecycle.breakout_remove, demoted, Forbidden),
    ],
    ids=["start-removed", "stop-removed", "start-demoted", "remove-demoted"],
)
def test_a_moderator_changed_while_the_service_waits_for_the_lock_is_refused_on_postgres(
    room: Conversation,
    owner: User,
    moderator: User,
    service: Callable[..., Conversation],
    change: Callable[[User], Callable[[], None]],
    error: type[Exception],
) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={})

    result = race_against_lock_holder(room, change(moderator), lambda: service(actor=moderator, parent=room))

    assert isinstance(result, error), result
    assert not ChatMessage.objects.filter(actor_id="moderator", system_message__startswith="breakout_rooms_").exists()
    assert len(breakout_rooms(room)) == 2


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_configure_waiting_for_a_parent_that_is_deleted_is_404_on_postgres(room: Conversation, owner: User) -> None:
    result = race_against_lock_holder(
        room,
        deleted(room),
        lambda: lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={}),
    )

    assert isinstance(result, NotFound), result
    assert not Conversation.objects.filter(name__startswith="Room ").exists()


# --- conversation writers on a breakout room that a remove deletes while they wait -----------------

# (who, service call on the stale breakout room row): every conversation writer that acts on a
# breakout room. Each one read the room before the tree lock; a concurrent remove (or reconfigure)
# of the parent deletes the room with its attendees and chat. Before the lock fixes these were a
# foreign-key IntegrityError (chat, add), DoesNotExist or a deadlock: 500s.
ROOM_WRITERS: dict[str, tuple[str, Callable[[User, Conversation, User], Any]]] = {
    "chat post": (
        "student",
        lambda actor, stale, _: chat_message_post(attendee=_stale_attendee(stale, actor), message="hi"),
    ),
    "leave": ("student", lambda actor, stale, _: participant_leave(actor=actor, room=stale)),
    "rename": ("owner", lambda actor, stale, _: conversation_rename(actor=actor, room=stale, name="Renamed")),
    "description": (
        "owner",
        lambda actor, stale, _: conversation_description_set(actor=actor, room=stale, description="table"),
    ),
    "add participant": (
        "owner",
        lambda actor, stale, other: participants_add(
            actor=actor, room=stale, new_participant=other.username, source="users"
        ),
    ),
    "remove attendee": (
        "owner",
        lambda actor, stale, other: attendee_remove(
            actor=actor, room=stale, attendee_id=_stale_attendee(stale, other).pk
        ),
    ),
    "promote": (
        "owner",
        lambda actor, stale, other: attendee_promote(
            actor=actor, room=stale, attendee_id=_stale_attendee(stale, other).pk
        ),
    ),
    "delete": ("owner", lambda actor, stale, _: conversation_delete(actor=actor, room=stale)),
}

_STALE_ATTENDEES: dict[tuple[int, int], Attendee] = {}


def _stale_attendee(room: Conversation, user: User) -> Attendee:
    """The attendee row of ``user`` in ``room`` as the view read it, before the room went."""
    return _STALE_ATTENDEES[(room.pk, user.pk)]


def _read_before_the_lock(breakout: Conversation, users: list[User]) -> Conversation:
    stale = Conversation.objects.select_related("parent").get(pk=breakout.pk)
    for row in Attendee.objects.filter(room=breakout, user__in=users).select_related("room", "room__parent"):
        _STALE_ATTENDEES[(breakout.pk, row.user_id)] = row
    return stale


@pytest.mark.parametrize("writer", list(ROOM_WRITERS))
def test_a_writer_of_a_breakout_room_removed_before_the_lock_is_404(
    room: Conversation, owner: User, student: User, configured: Configured, writer: str
) -> None:
    breakout = configured(mode=1, amount=1)[0]
    stale = _read_before_the_lock(breakout, [owner, student])
    who, write = ROOM_WRITERS[writer]
    actor = owner if who == "owner" else student
    lifecycle.breakout_remove(actor=owner, parent=room)

    with pytest.raises(NotFound):
        write(actor, stale, student)

    assert not Conversation.objects.filter(parent=room).exists()
    assert not Attendee.objects.filter(room_id=breakout.pk).exists()
    assert not ChatMessage.objects.filter(room_id=breakout.pk).exists()


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("writer", list(ROOM_WRITERS))
def test_a_writer_of_a_breakout_room_removed_while_it_waits_is_404_on_postgres(
    room: Conversation, owner: User, student: User, writer: str
) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=1, attendee_map={})
    breakout = breakout_rooms(room)[0]
    stale = _read_before_the_lock(breakout, [owner, student])
    who, write = ROOM_WRITERS[writer]
    actor = owner if who == "owner" else student

    def remove() -> None:
        lifecycle.breakout_remove(actor=owner, parent=room)

    result = race_against_lock_holder(room, remove, lambda: write(actor, stale, student))

    assert isinstance(result, NotFound), result
    assert not Conversation.objects.filter(parent=room).exists()
    assert not ChatMessage.objects.filter(room_id=breakout.pk).exists()


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_extra_room_of_a_moderator_demoted_while_waiting_is_refused_on_postgres(
    room: Conversation, owner: User, moderator: User
) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=1, attendee_map={})

    result = race_against_lock_holder(
        room,
        demoted(moderator),
        lambda: breakout_room_create_extra(actor=moderator, parent_token=room.token, name="Extra", object_type="room"),
    )

    assert isinstance(result, BadRequest) and result.data == {"error": "permissions"}, result
    assert not Conversation.objects.filter(name="Extra").exists()
