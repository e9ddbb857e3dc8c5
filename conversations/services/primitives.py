"""Writes on conversations, attendees and chat. One function per operation; each public one is
atomic. The primitives at the top work in bulk so that no operation's query count grows with
the number of attendees or rooms."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, ExpressionWrapper, F, Func, Q, QuerySet, TextField, Value
from django.utils import timezone

from accounts.models import User
from conversations.hooks import tree_rules
from conversations.models import Attendee, ChatMessage, Conversation, new_token
from live.services import NewEvent, events_add
from project.bulk import rows_insert, rows_insert_select
from project.errors import BadRequest, Forbidden, NotFound

TOKEN_ATTEMPTS = 5
# The key of a tree's gate (an advisory lock) is this plus the parent's id.
TREE_GATE = 0x7EE << 40


def rich_user(user_id: str, display_name: str) -> dict[str, str]:
    """Talk's rich-object parameter for a user, as system messages store it."""
    return {"type": "user", "id": user_id, "name": display_name}


# The management commands act "as the service itself" when no user is named: an unsaved User
# that system messages record as Talk records its command line, the guest "cli".
SERVICE_ACTOR_ID = "cli"
SERVICE_ACTOR_NAME = "Service (command line)"


def service_actor() -> User:
    """The actor of an operator's command run without a user: never saved (``pk`` None), so no
    membership check can pass for it; only ``as_operator`` services accept it."""
    return User(username=SERVICE_ACTOR_ID, display_name=SERVICE_ACTOR_NAME)


def datetime_from_timestamp(value: int, *, error: str) -> datetime:
    """A unix timestamp as an aware datetime; negative or out-of-range values are 400 ``error``."""
    if value < 0:
        raise BadRequest(error)
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(error) from None


class AttendeeRow(NamedTuple):
    """An attendee row read as plain values (``attendee_rows``): what placing its user in another
    room reads of it, without the cost of a model instance (thousands in a configure)."""

    pk: int
    room_id: int
    actor_id: str
    user_id: int | None
    display_name: str
    participant_type: int


def attendee_rows(attendees: QuerySet[Attendee]) -> list[AttendeeRow]:
    """The rows of ``attendees`` (in its order) as ``AttendeeRow`` values, in one query."""
    columns = ("id", "room_id", "actor_id", "user_id", "display_name", "participant_type")
    return [AttendeeRow(*values) for values in attendees.values_list(*columns)]


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
    def of_attendee(cls, attendee: Attendee | AttendeeRow, room: Conversation) -> Placement:
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


RoomTokens = dict[int, tuple[str, str | None]]


def room_tokens(*, room_ids: Iterable[int], rooms: Iterable[Conversation] = ()) -> RoomTokens:
    """The token and parent token of each room in ``room_ids``: taken from ``rooms`` where their
    parent is known without a query, the others read in one query."""
    known: RoomTokens = {}
    for room in rooms:
        if room.parent_id is None:
            known[room.pk] = (room.token, None)
        elif Conversation.parent.is_cached(room):
            known[room.pk] = (room.token, room.parent.token if room.parent is not None else None)
    missing = set(room_ids) - known.keys()
    if missing:
        for pk, token, parent_token in Conversation.objects.filter(pk__in=missing).values_list(
            "pk", "token", "parent__token"
        ):
            known[pk] = (token, parent_token)
    return known


def chat_events_add(
    *,
    messages: Iterable[ChatMessage],
    actor_id: str,
    rooms: Iterable[Conversation] = (),
    tokens: RoomTokens | None = None,
) -> None:
    """One ``chat.message`` event per room of ``messages``, carrying the newest message id there:
    it wakes the long polls and streams of the room, which read the chat themselves. ``tokens``
    (from ``room_tokens``) or loaded ``rooms`` spare the query of the rooms' tokens."""
    newest: dict[int, int] = {}
    for message in messages:
        newest[message.room_id] = max(newest.get(message.room_id, 0), message.pk)
    newest_chat_events_add(newest=newest, actor_id=actor_id, rooms=rooms, tokens=tokens)


def newest_chat_events_add(
    *,
    newest: dict[int, int],
    actor_id: str,
    rooms: Iterable[Conversation] = (),
    tokens: RoomTokens | None = None,
) -> None:
    """``chat_events_add`` from the newest message id of each room (room id -> message id)."""
    if not newest:
        return
    if tokens is None or not newest.keys() <= tokens.keys():
        tokens = room_tokens(room_ids=newest, rooms=rooms)
    events_add(
        events=[
            NewEvent(
                type="chat.message",
                token=tokens[room_id][0],
                parent_token=tokens[room_id][1],
                actor_id=actor_id,
                payload={"messageId": message_id},
            )
            for room_id, message_id in newest.items()
            if room_id in tokens  # a room deleted in this transaction has no one to wake
        ]
    )


def participants_events_add(
    *,
    attendees: Iterable[Attendee],
    change: str,
    actor: User,
    rooms: Iterable[Conversation] = (),
    tokens: RoomTokens | None = None,
) -> None:
    """One ``participants.changed`` event per room of ``attendees`` (``change``: added, removed,
    promoted, demoted), listing the attendee ids and actor ids concerned."""
    _participants_events_add(
        rows=((a.room_id, a.pk, a.actor_id) for a in attendees), change=change, actor=actor, rooms=rooms, tokens=tokens
    )


def _participants_events_add(
    *,
    rows: Iterable[tuple[int, int, str]],
    change: str,
    actor: User,
    rooms: Iterable[Conversation] = (),
    tokens: RoomTokens | None = None,
) -> None:
    """``participants_events_add`` from (room id, attendee id, actor id) rows: no model instance."""
    by_room: dict[int, tuple[list[int], list[str]]] = {}
    for room_id, attendee_id, actor_id in rows:
        ids, actor_ids = by_room.setdefault(room_id, ([], []))
        ids.append(attendee_id)
        actor_ids.append(actor_id)
    if not by_room:
        return
    if tokens is None or not by_room.keys() <= tokens.keys():
        tokens = room_tokens(room_ids=by_room, rooms=rooms)
    events_add(
        events=[
            NewEvent(
                type="participants.changed",
                token=tokens[room_id][0],
                parent_token=tokens[room_id][1],
                actor_id=actor.username,
                payload={"change": change, "attendeeIds": ids, "actorIds": actor_ids},
            )
            for room_id, (ids, actor_ids) in by_room.items()
            if room_id in tokens
        ]
    )


def _rooms_of(attendees: Iterable[Attendee]) -> list[Conversation]:
    """The rooms of ``attendees`` that are already loaded (no query)."""
    return [a.room for a in attendees if Attendee.room.is_cached(a)]


def _message_actor(actor: User) -> tuple[dict[str, Any], dict[str, str]]:
    """The actor columns of a system message of ``actor`` and its ``actor`` rich parameter."""
    if actor.pk is None:  # service_actor()
        columns = {
            "actor_type": Attendee.ACTOR_GUESTS,
            "actor_id": SERVICE_ACTOR_ID,
            "actor_display_name": SERVICE_ACTOR_NAME,
        }
        return columns, {"type": "guest", "id": f"guest/{SERVICE_ACTOR_ID}", "name": SERVICE_ACTOR_NAME}
    name = actor.get_display_name()
    columns = {"actor_type": Attendee.ACTOR_USERS, "actor_id": actor.username, "actor_display_name": name}
    return columns, rich_user(actor.username, name)


def system_messages_post(
    *,
    actor: User,
    messages: Sequence[SystemMessage],
    now: datetime | None = None,
    rooms: Iterable[Conversation] = (),
    tokens: RoomTokens | None = None,
) -> int:
    """Write system messages in one INSERT, bump the rooms' last activity in one UPDATE and add
    one ``chat.message`` event per room (``rooms``: the rooms already loaded, whose tokens then
    cost no query); returns how many were written. One statement for any number
    (``project.bulk.rows_insert``: no model instance per message)."""
    if not messages:
        return 0
    now = now or timezone.now()
    actor_columns, actor_param = _message_actor(actor)
    rows = []
    for spec in messages:
        parameters: dict[str, Any] = {"actor": actor_param}
        if spec.user is not None:
            parameters["user"] = spec.user
        if spec.text:
            parameters["text"] = spec.text
        rows.append((spec.room_id, spec.key, json.dumps(parameters)))
    ids = rows_insert(
        ChatMessage,
        columns=["room_id", "system_message", "parameters"],
        rows=rows,
        constants={**actor_columns, "message_type": ChatMessage.Type.SYSTEM, "created_at": now},
        returning=True,
    )
    posted = zip(ids, (spec.room_id for spec in messages), strict=True)
    _messages_posted(actor=actor, posted=posted, now=now, rooms=rooms, tokens=tokens)
    return len(rows)


def _messages_posted(
    *,
    actor: User,
    posted: Iterable[tuple[int, int]],
    now: datetime,
    rooms: Iterable[Conversation] = (),
    tokens: RoomTokens | None = None,
) -> None:
    """After system messages were written ((message id, room id) of each): the rooms' last
    activity in one UPDATE and one ``chat.message`` event per room with its newest message."""
    newest: dict[int, int] = {}
    for message_id, room_id in posted:
        if message_id > newest.get(room_id, 0):
            newest[room_id] = message_id
    rooms_touch(room_ids=newest, now=now)
    newest_chat_events_add(newest=newest, actor_id=actor.username, rooms=rooms, tokens=tokens)


def _added_messages_post(*, actor: User, attendee_ids: Sequence[int], now: datetime, tokens: RoomTokens) -> None:
    """``user_added`` for each of the attendee rows ``attendee_ids`` (just inserted), in id order,
    as ``system_messages_post`` writes them, but computed by the database from those rows in one
    INSERT ... SELECT: no message is built in Python nor shipped as a parameter."""
    if not attendee_ids:
        return
    actor_columns, actor_param = _message_actor(actor)
    attendees = connection.ops.quote_name(Attendee._meta.db_table)
    if connection.vendor == "postgresql":
        parameters = (
            "jsonb_build_object('actor', CAST(%s AS jsonb), 'user',"
            " jsonb_build_object('type', 'user', 'id', a.actor_id, 'name', a.display_name))"
        )
        source = f"{attendees} AS a WHERE a.id = ANY(CAST(%s AS bigint[])) ORDER BY a.id"
        ids = "{" + ",".join(map(str, attendee_ids)) + "}"
    else:
        parameters = (
            "json_object('actor', json(%s), 'user',"
            " json_object('type', 'user', 'id', a.actor_id, 'name', a.display_name))"
        )
        source = f"{attendees} AS a WHERE a.id IN (SELECT value FROM json_each(%s)) ORDER BY a.id"
        ids = json.dumps(attendee_ids)
    posted = rows_insert_select(
        ChatMessage,
        columns={"room_id": "a.room_id", "parameters": parameters},
        params=[json.dumps(actor_param)],
        source=source,
        source_params=[ids],
        constants={
            **actor_columns,
            "system_message": "user_added",
            "message_type": ChatMessage.Type.SYSTEM,
            "created_at": now,
        },
        returning=["id", "room_id"],
    )
    _messages_posted(actor=actor, posted=posted, now=now, tokens=tokens)


def rooms_touch(*, room_ids: Iterable[int], now: datetime | None = None) -> None:
    Conversation.objects.filter(pk__in=list(room_ids)).update(last_activity=now or timezone.now())


def attendees_place(
    *, actor: User, placements: Sequence[Placement], now: datetime | None = None, announce: bool = True
) -> list[int]:
    """Create the attendee rows of ``placements`` in one INSERT and post ``user_added`` for each
    (none for the acting user joining as owner or moderator, as in Talk; none at all with
    ``announce=False``, e.g. for the two owners of a new one-to-one conversation). Returns the
    new ids in the order of ``placements``; ``attendees_add_bulk`` returns the rows.

    One statement for any number of rows (``project.bulk.rows_insert``), and one for their
    messages, which the database builds from the new rows (``_added_messages_post``).

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
        returning=True,
    )
    rooms = list({placement.room.pk: placement.room for placement in placements}.values())
    tokens = room_tokens(room_ids=[room.pk for room in rooms], rooms=rooms)
    _participants_events_add(
        rows=((p.room.pk, pk, p.actor_id) for pk, p in zip(ids, placements, strict=True)),
        change="added",
        actor=actor,
        tokens=tokens,
    )
    if announce:
        announced = [pk for pk, p in zip(ids, placements, strict=True) if not _self_joining(actor, p)]
        _added_messages_post(actor=actor, attendee_ids=announced, now=now, tokens=tokens)
    return ids


def attendees_add_bulk(
    *, actor: User, placements: Sequence[Placement], now: datetime | None = None, announce: bool = True
) -> list[Attendee]:
    """``attendees_place``, with the new rows returned as model instances carrying their ids."""
    now = now or timezone.now()
    ids = attendees_place(actor=actor, placements=placements, now=now, announce=announce)
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
        for pk, placement in zip(ids, placements, strict=True)
    ]
    for attendee in created:
        attendee._state.adding = False
    return created


def _self_joining(actor: User, placement: Placement) -> bool:
    """The acting user joining as owner or moderator: Talk posts no ``user_added`` for it."""
    return placement.user_id == actor.pk and placement.participant_type in Attendee.MODERATOR_TYPES


def _added_messages(actor: User, placements: Iterable[Placement]) -> list[SystemMessage]:
    """``user_added`` for each placement, except the acting user joining as owner or moderator."""
    return [
        SystemMessage(
            room_id=placement.room.pk,
            key="user_added",
            user=rich_user(placement.actor_id, placement.display_name),
        )
        for placement in placements
        if not _self_joining(actor, placement)
    ]


def _removed_messages(attendees: Iterable[Attendee]) -> list[SystemMessage]:
    """``user_removed`` for each user among ``attendees``."""
    return [
        SystemMessage(
            room_id=attendee.room_id,
            key="user_removed",
            user=rich_user(attendee.actor_id, attendee.display_name),
        )
        for attendee in attendees
        if attendee.actor_type == Attendee.ACTOR_USERS
    ]


def attendees_remove_bulk(
    *,
    actor: User,
    attendees: Sequence[Attendee],
    now: datetime | None = None,
    extra_rooms: Iterable[Conversation] = (),
    change: str = "removed",
    announce: bool = True,
) -> int:
    """Delete the given attendee rows in one DELETE and post ``user_removed`` in each room
    (as in Talk, also when the actor removes themselves: the text then reads "left"; none with
    ``announce=False``). ``extra_rooms``: loaded rooms (parent included) whose tokens then cost
    no query; ``change`` names the removal in the ``participants.changed`` events (``removed``,
    or ``left``)."""
    if not attendees:
        return 0
    now = now or timezone.now()
    deleted, _ = Attendee.objects.filter(pk__in=[attendee.pk for attendee in attendees]).delete()
    tokens = room_tokens(room_ids={a.room_id for a in attendees}, rooms=[*_rooms_of(attendees), *extra_rooms])
    participants_events_add(attendees=attendees, change=change, actor=actor, tokens=tokens)
    if announce:
        system_messages_post(actor=actor, messages=_removed_messages(attendees), now=now, tokens=tokens)
    return deleted


def attendees_move(
    *,
    actor: User,
    leaving: Sequence[Attendee],
    placements: Sequence[Placement],
    now: datetime,
    rooms: Iterable[Conversation],
) -> None:
    """Remove the rows ``leaving`` and add ``placements`` (a student switching rooms), with their
    ``user_removed`` and then ``user_added`` messages posted in one INSERT and the rooms' last
    activity bumped in one UPDATE: the statements of ``attendees_remove_bulk`` and
    ``attendees_add_bulk`` less two. ``rooms``: the loaded rooms involved, parents cached (the
    caller holds their row locks, taken in id order, so the one UPDATE cannot deadlock)."""
    rooms = list(rooms)
    attendees_remove_bulk(actor=actor, attendees=leaving, now=now, extra_rooms=rooms, announce=False)
    attendees_place(actor=actor, placements=placements, now=now, announce=False)
    messages = [*_removed_messages(leaving), *_added_messages(actor, placements)]
    system_messages_post(actor=actor, messages=messages, now=now, rooms=rooms)


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
    return _tree_end_apply(rows.get(pk=parent_id))


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


# Set while a passed end is being applied: the stop it runs takes this very lock again.
_tree_end_applying: ContextVar[bool] = ContextVar("tree_end_applying", default=False)


def tree_end_due(room: Conversation, *, now: datetime | None = None) -> bool:
    """Whether ``room`` (a parent or a breakout room: the end is copied to the rooms) carries a
    breakout end that has passed. No query."""
    return room.breakout_ends_at is not None and room.breakout_ends_at <= (now or timezone.now())


def _tree_end_apply(root: Conversation) -> Conversation:
    """Every writer of a tree locks it here first; a timer whose end has passed is applied before
    the writer reads anything, so no write acts on rooms that should already be closed (the
    worker applies it within seconds; this covers the seconds in between). No query when no end
    has passed, which is nearly always."""
    if not tree_end_due(root) or _tree_end_applying.get():
        return root
    token = _tree_end_applying.set(True)
    try:
        return tree_rules().tree_end_reached(root=root)
    finally:
        _tree_end_applying.reset(token)


def conversation_tree_end_apply_if_due(*, room: Conversation) -> Conversation:
    """The read path's counterpart of the lock's check (as for the lobby timer): a request that
    reads a tree whose end has passed applies it first, so it never sees rooms still open after
    their end. Returns ``room`` as it now is; no query when no end has passed."""
    if not tree_end_due(room):
        return room
    with transaction.atomic():
        return room_tree_lock(room)


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
