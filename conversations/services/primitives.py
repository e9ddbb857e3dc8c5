"""Writes on conversations, attendees and chat. One function per operation; each public one is
atomic. The primitives at the top work in bulk so that no operation's query count grows with
the number of attendees or rooms."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, ExpressionWrapper, F, Func, Q, TextField, Value
from django.utils import timezone

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation, new_token
from project.bulk import rows_insert
from project.errors import BadRequest, Forbidden, NotFound

TOKEN_ATTEMPTS = 5
# The key of a tree's gate (an advisory lock) is this plus the parent's id.
TREE_GATE = 0x7EE << 40


def rich_user(user_id: str, display_name: str) -> dict[str, str]:
    """Talk's rich-object parameter for a user, as system messages store it."""
    return {"type": "user", "id": user_id, "name": display_name}


def datetime_from_timestamp(value: int, *, error: str) -> datetime:
    """A unix timestamp as an aware datetime; negative or out-of-range values are 400 ``error``."""
    if value < 0:
        raise BadRequest(error)
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(error) from None


@dataclass(frozen=True)
class Placement:
    """Put one user into one room with a participant type."""

    room: Conversation
    user_id: int
    actor_id: str
    display_name: str
    participant_type: int

    @classmethod
    def of_user(cls, user: User, room: Conversation, participant_type: int) -> Placement:
        return cls(
            room=room,
            user_id=user.pk,
            actor_id=user.username,
            display_name=user.get_display_name(),
            participant_type=participant_type,
        )

    @classmethod
    def of_attendee(cls, attendee: Attendee, room: Conversation) -> Placement:
        """The user behind ``attendee`` (of another room, usually the parent) joining ``room``
        with the same participant type and display name."""
        if attendee.user_id is None:  # the check constraint attendee_users_have_user forbids it
            raise ValueError(f"attendee {attendee.pk} is not a user")
        return cls(
            room=room,
            user_id=attendee.user_id,
            actor_id=attendee.actor_id,
            display_name=attendee.display_name,
            participant_type=attendee.participant_type,
        )


@dataclass
class SystemMessage:
    room_id: int
    key: str
    user: dict[str, str] | None = None
    text: dict[str, Any] = field(default_factory=dict)


def system_messages_post(*, actor: User, messages: Sequence[SystemMessage], now=None) -> int:
    """Write system messages in one INSERT and bump the rooms' last activity in one UPDATE;
    returns how many were written. One statement for any number (``project.bulk.rows_insert``:
    no model instance per message)."""
    if not messages:
        return 0
    now = now or timezone.now()
    actor_param = rich_user(actor.username, actor.get_display_name())
    rows = []
    for spec in messages:
        parameters: dict[str, Any] = {"actor": actor_param}
        if spec.user is not None:
            parameters["user"] = spec.user
        if spec.text:
            parameters["text"] = spec.text
        rows.append((spec.room_id, spec.key, json.dumps(parameters)))
    rows_insert(
        ChatMessage,
        columns=["room_id", "system_message", "parameters"],
        rows=rows,
        constants={
            "actor_type": Attendee.ACTOR_USERS,
            "actor_id": actor.username,
            "actor_display_name": actor.get_display_name(),
            "message_type": ChatMessage.Type.SYSTEM,
            "created_at": now,
        },
    )
    rooms_touch(room_ids={spec.room_id for spec in messages}, now=now)
    return len(rows)


def rooms_touch(*, room_ids: Iterable[int], now=None) -> None:
    Conversation.objects.filter(pk__in=list(room_ids)).update(last_activity=now or timezone.now())


def attendees_add_bulk(
    *, actor: User, placements: Sequence[Placement], now=None, announce: bool = True, returning: bool = True
) -> list[Attendee]:
    """Create the attendee rows of ``placements`` in one INSERT and post ``user_added`` for each
    (none for the acting user joining as owner or moderator, as in Talk; none at all with
    ``announce=False``, e.g. for the two owners of a new one-to-one conversation).

    One statement for any number of rows (``project.bulk.rows_insert``); the new rows come back
    as unsaved-looking model instances with their ids only when ``returning`` (configure places
    thousands and needs none of them).

    The caller holds the lock on the conversation tree; the database still refuses a second row
    for the same actor in a room and a second breakout room for a student of one parent.
    """
    if not placements:
        return []
    now = now or timezone.now()
    ids = rows_insert(
        Attendee,
        columns=["room_id", "actor_id", "user_id", "display_name", "participant_type", "breakout_parent_id"],
        rows=[
            (p.room.pk, p.actor_id, p.user_id, p.display_name, p.participant_type, p.room.parent_id) for p in placements
        ],
        constants={"actor_type": Attendee.ACTOR_USERS, "created_at": now},
        returning=returning,
    )
    created = [
        Attendee(
            pk=pk,
            room=placement.room,
            actor_type=Attendee.ACTOR_USERS,
            actor_id=placement.actor_id,
            user_id=placement.user_id,
            display_name=placement.display_name,
            participant_type=placement.participant_type,
            breakout_parent_id=placement.room.parent_id,
            created_at=now,
        )
        for pk, placement in zip(ids, placements, strict=False)
    ]
    for attendee in created:
        attendee._state.adding = False
    if not announce:
        return created
    messages = [
        SystemMessage(
            room_id=placement.room.pk,
            key="user_added",
            user=rich_user(placement.actor_id, placement.display_name),
        )
        for placement in placements
        if not (placement.user_id == actor.pk and placement.participant_type in Attendee.MODERATOR_TYPES)
    ]
    system_messages_post(actor=actor, messages=messages, now=now)
    return created


def attendees_remove_bulk(*, actor: User, attendees: Sequence[Attendee], now=None) -> int:
    """Delete the given attendee rows in one DELETE and post ``user_removed`` in each room
    (as in Talk, also when the actor removes themselves: the text then reads "left")."""
    if not attendees:
        return 0
    now = now or timezone.now()
    messages = [
        SystemMessage(
            room_id=attendee.room_id,
            key="user_removed",
            user=rich_user(attendee.actor_id, attendee.display_name),
        )
        for attendee in attendees
        if attendee.actor_type == Attendee.ACTOR_USERS
    ]
    deleted, _ = Attendee.objects.filter(pk__in=[attendee.pk for attendee in attendees]).delete()
    system_messages_post(actor=actor, messages=messages, now=now)
    return deleted


def conversations_create_bulk(*, rooms: Sequence[Conversation]) -> list[Conversation]:
    """Insert conversations in one INSERT. Tokens are random; the unique constraint guarantees
    them, and a collision (about 1 in 10^15 per pair) is retried with fresh tokens."""
    for attempt in range(TOKEN_ATTEMPTS):
        try:
            with transaction.atomic():
                return Conversation.objects.bulk_create(rooms)
        except IntegrityError:
            if attempt == TOKEN_ATTEMPTS - 1:
                raise
            for room in rooms:
                room.token = new_token()
    return []  # pragma: no cover - the loop returns or raises


def conversation_tree_lock(*, parent_id: int) -> Conversation:
    """Lock a parent conversation's row for the rest of the transaction and return it fresh.

    Every read-modify-write of a breakout tree (a parent and its breakout rooms, their
    attendees) takes this lock first, so concurrent writers of one tree run one after another.
    Lock order everywhere: the parent row, then breakout rooms, then attendee rows. On SQLite,
    where SELECT ... FOR UPDATE does not exist, IMMEDIATE transactions serialise writers.
    """
    rows = Conversation.objects.select_related("parent").select_for_update(of=("self",))
    if connection.vendor == "postgresql":
        # The exclusive side of the tree's gate (see ``conversation_tree_share_lock``), taken in
        # the same statement, before the row lock.
        rows = rows.annotate(
            _tree_gate=Func(
                ExpressionWrapper(Value(TREE_GATE) + F("pk"), output_field=BigIntegerField()),
                function="pg_advisory_xact_lock",
                output_field=TextField(),
            )
        )
    return rows.get(pk=parent_id)


def conversation_tree_share_lock(*, parent_id: int) -> Conversation:
    """The shared form of ``conversation_tree_lock``, for writers that touch only their own rows
    of a tree (a student's switch): they run side by side, while the parent's status cannot
    change under them, and every holder of the exclusive lock waits for them and they for it.

    PostgreSQL: a shared transaction-scoped advisory lock on the tree (its exclusive form is
    taken by ``conversation_tree_lock``) and the parent row ``FOR SHARE``. Advisory locks queue
    in arrival order, so a moderator's start or stop waiting for the exclusive lock is served
    before switches that arrive after it (row share locks alone would let a stream of switches
    starve it). SQLite has one writer at a time anyway: the exclusive lock.
    """
    if connection.vendor != "postgresql":
        return conversation_tree_lock(parent_id=parent_id)
    # One statement: the gate is taken while the row is read, then the row is locked FOR SHARE,
    # which re-reads it if an exclusive holder changed it meanwhile (its status is fresh).
    table = connection.ops.quote_name(Conversation._meta.db_table)
    found = list(
        Conversation.objects.raw(
            f"SELECT *, pg_advisory_xact_lock_shared(%s + id) AS tree_gate FROM {table} WHERE id = %s FOR SHARE",
            [TREE_GATE, parent_id],
        )
    )
    if not found:
        raise Conversation.DoesNotExist()
    return found[0]


def room_tree_lock(room: Conversation) -> Conversation:
    """Lock the root of ``room``'s tree (its parent, or the room itself) and return ``room`` as it
    is now, read under the lock. Callers must continue with the returned row: the one they were
    given was read before the lock and may be stale (a configure may have committed meanwhile).

    A room (or its parent) deleted while this request waited for the lock is 404, not a 500."""
    try:
        root = conversation_tree_lock(parent_id=room.parent_id or room.pk)
        if root.pk == room.pk:
            return root
        return Conversation.objects.select_related("parent").get(pk=room.pk)
    except Conversation.DoesNotExist:
        raise NotFound() from None


def _caller_check(caller: Attendee | None) -> Attendee:
    if caller is None:  # removed from the room while this request waited for the lock
        raise NotFound()
    if caller.participant_type not in Attendee.MODERATOR_TYPES:  # demoted meanwhile
        raise Forbidden()
    return caller


def moderator_recheck(*, room: Conversation, actor: User) -> Attendee:
    """The caller's row in ``room``, read again under the tree lock: the view checked their role
    before the lock, and a concurrent demotion or removal may have committed since (404/403)."""
    return _caller_check(Attendee.objects.filter(room=room, actor_type=Attendee.ACTOR_USERS, user=actor).first())


def moderator_recheck_with_target(*, room: Conversation, actor: User, attendee_id: int) -> Attendee:
    """``moderator_recheck`` and the target attendee ``attendee_id`` of ``room`` (404 when
    missing), read in one query under the tree lock. Returns the target."""
    rows = list(
        Attendee.objects.filter(room=room).filter(Q(pk=attendee_id) | Q(actor_type=Attendee.ACTOR_USERS, user=actor))
    )
    _caller_check(next((r for r in rows if r.actor_type == Attendee.ACTOR_USERS and r.user_id == actor.pk), None))
    target = next((r for r in rows if r.pk == attendee_id), None)
    if target is None:
        raise NotFound()
    return target
