"""Hand-written SQL of the hottest fixed-shape reads: a caller's room objects, the caller's
attendee row by token, a chat page.

Why not the ORM: these statements have the same shape on every request, and rebuilding and
recompiling the annotated querysets (expression resolution, hashing, compilation) cost about
half of a room read. Here each statement's text is built once per database vendor and kept;
rows become model instances through ``ModelColumns``, which applies the same database converters
the ORM applies (SQLite's text timestamps and integer booleans, JSON decoding), so callers get
the same objects the querysets gave them.

The SQL is portable (SQLite and PostgreSQL): no vendor function, parameters for every value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import JSONField, Model
from django.db.models.base import ModelState
from django.db.models.expressions import Col
from django.db.models.signals import post_init, pre_init

from accounts.models import AppConfigValue
from conversations.models import Attendee, ChatMessage, Conversation

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


class ModelColumns(Generic[M]):
    """The concrete columns of ``model`` under a table alias: their SQL select list, and the
    instance built from a slice of a result row (with the ORM's converters of this vendor)."""

    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = model._meta.concrete_fields
        self.width = len(self.fields)
        self.attnames = [field.attname for field in self.fields]
        self._converters: dict[str, list[tuple[int, Col, list[Converter], bool]]] = {}

    def select_list(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(str(field.column))}" for field in self.fields)

    def _vendor_converters(self, db: BaseDatabaseWrapper) -> list[tuple[int, Col, list[Converter], bool]]:
        """Per column with converters: its index, the column, the converters, and whether they
        are only a plain ``JSONField``'s decoding (``build`` then reads ``{}``/``[]`` itself)."""
        found = self._converters.get(db.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                converters = db.ops.get_db_converters(column) + column.get_db_converters(db)
                if converters:
                    plain_json = (
                        isinstance(field, JSONField) and field.decoder is None and converters == [field.from_db_value]
                    )
                    found.append((index, column, converters, plain_json))
            self._converters[db.vendor] = found
        return found

    def build(self, row: Sequence[Any], start: int, db: BaseDatabaseWrapper) -> M:
        """The instance whose columns start at ``row[start]``, as ``Model.from_db`` builds it.

        Without ``pre_init``/``post_init`` receivers for the model, ``Model.__init__`` only sets
        each attribute and a fresh ``_state``: that is done directly here (``__init__``'s generic
        argument handling was a fifth of a 50-room list)."""
        values = list(row[start : start + self.width])
        for index, column, converters, plain_json in self._vendor_converters(db):
            value = values[index]
            if value is None:  # column converters pass NULL through unchanged
                continue
            if plain_json and (value == "{}" or value == "[]"):  # most messages' parameters and reactions
                values[index] = {} if value == "{}" else []  # what json.loads gives, without its call
                continue
            for converter in converters:
                value = converter(value, column, db)
            values[index] = value
        if pre_init.has_listeners(self.model) or post_init.has_listeners(self.model):  # cached by the signals
            return self.model.from_db(db.alias, self.attnames, values)
        instance = self.model.__new__(self.model)
        instance.__dict__.update(zip(self.attnames, values, strict=True))
        state = instance._state = ModelState()
        state.adding, state.db = False, db.alias
        return instance

    def build_nullable(self, row: Sequence[Any], start: int, db: BaseDatabaseWrapper) -> M | None:
        """As ``build``, or None when the row of a LEFT JOIN is missing (its primary key is NULL)."""
        return None if row[start] is None else self.build(row, start, db)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


_ATTENDEE = ModelColumns(Attendee, "a")
_ROOM = ModelColumns(Conversation, "r")
_PARENT = ModelColumns(Conversation, "p")
_MESSAGE = ModelColumns(ChatMessage, "m")
_REPLY_TO = ModelColumns(ChatMessage, "rt")

_statements: dict[tuple[str, str], str] = {}


def _statement(name: str, build: Callable[[], str]) -> str:
    key = (connection.vendor, name)
    sql = _statements.get(key)
    if sql is None:
        sql = _statements[key] = build()
    return sql


# Caller rooms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerRoomRow:
    """One row of ``caller_room_rows``: the caller's attendee row (with ``room`` and its
    ``parent`` loaded), the room's last message and the per-caller values of the room object."""

    attendee: Attendee
    last_message: ChatMessage | None
    unread_messages: int
    last_common_read_message: int
    partner_display_name: str | None


class RoomScope(Enum):
    """Which rooms ``caller_room_rows`` reads (``r`` is the room, ``a`` the caller's attendee row
    in it); the value is the statement's condition, with its parameters."""

    ALL = ""
    MODIFIED_SINCE = "AND r.{last_activity} >= %s"  # a datetime
    BY_ID = "AND r.{id} = %s"  # a room id
    BY_TOKEN = "AND r.{token} = %s"  # a room token
    OF_PARENT = "AND r.{parent_id} = %s"  # a parent id: its breakout rooms
    TREE = "AND (r.{id} = %s OR r.{parent_id} = %s)"  # a parent id twice: it and its breakout rooms


def _caller_rooms_sql(scope: RoomScope, *, every_room: bool) -> str:
    """The statement of ``caller_room_rows`` (``every_room`` false: only rooms the caller is in)
    and ``breakout_listing_rows`` (true: every room of the scope, the caller's row or NULLs)."""
    attendees, rooms, messages = _table(Attendee), _table(Conversation), _table(ChatMessage)
    condition = scope.value.format(**{name: _q(name) for name in ("id", "token", "parent_id", "last_activity")})
    users = "%s"  # Attendee.ACTOR_USERS, a parameter like every value
    return (
        f"SELECT {_ATTENDEE.select_list()}, {_ROOM.select_list()}, {_PARENT.select_list()},"
        f" {_MESSAGE.select_list()},"
        # unread: comments after the caller's read marker that others wrote
        f" (SELECT COUNT(*) FROM {messages} u WHERE u.{_q('room_id')} = r.{_q('id')}"
        f" AND u.{_q('id')} > a.{_q('last_read_message')} AND u.{_q('message_type')} = %s"
        f" AND NOT (u.{_q('actor_type')} = {users} AND u.{_q('actor_id')} = %s)),"
        # the read marker every user of the room has reached
        f" (SELECT MIN(o.{_q('last_read_message')}) FROM {attendees} o"
        f" WHERE o.{_q('room_id')} = r.{_q('id')} AND o.{_q('actor_type')} = {users}),"
        # the other user of a one-to-one conversation (its display name)
        f" (SELECT o.{_q('display_name')} FROM {attendees} o WHERE o.{_q('room_id')} = r.{_q('id')}"
        f" AND o.{_q('actor_type')} = {users} AND (o.{_q('user_id')} IS NULL OR o.{_q('user_id')} <> %s)"
        f" ORDER BY o.{_q('id')} LIMIT 1)"
        f" FROM {rooms} r"
        f" {'LEFT' if every_room else 'INNER'} JOIN {attendees} a ON a.{_q('room_id')} = r.{_q('id')}"
        f" AND a.{_q('user_id')} = %s AND a.{_q('actor_type')} = {users}"
        f" LEFT JOIN {rooms} p ON p.{_q('id')} = r.{_q('parent_id')}"
        f" LEFT JOIN {messages} m ON m.{_q('id')} ="
        f" (SELECT MAX(x.{_q('id')}) FROM {messages} x WHERE x.{_q('room_id')} = r.{_q('id')})"
        f" WHERE 1 = 1 {condition}"
        # the same order; a.room_id lets the index on the caller's rows (user, room) give it
        f" ORDER BY {'r.' + _q('id') if every_room else 'a.' + _q('room_id')}"
    )


def _caller_rooms_execute(
    *, user_id: int, username: str, scope: RoomScope, scope_params: Sequence[Any], every_room: bool
) -> list[tuple[Conversation, CallerRoomRow | None]]:
    users = Attendee.ACTOR_USERS
    params: list[Any] = [ChatMessage.Type.COMMENT.value, users, username, users, users, user_id]
    params += [user_id, users, *(_adapt(value) for value in scope_params)]
    db: BaseDatabaseWrapper = connections[DEFAULT_DB_ALIAS]  # the proxy resolves per access: once here
    name = f"caller_rooms:{scope.name}:{every_room}"
    with db.cursor() as cursor:
        cursor.execute(_statement(name, lambda: _caller_rooms_sql(scope, every_room=every_room)), params)
        rows = cursor.fetchall()
    extra = _ATTENDEE.width + _ROOM.width + _PARENT.width + _MESSAGE.width
    result: list[tuple[Conversation, CallerRoomRow | None]] = []
    for row in rows:
        room = _ROOM.build(row, _ATTENDEE.width, db)
        room.parent = _PARENT.build_nullable(row, _ATTENDEE.width + _ROOM.width, db)
        attendee = _ATTENDEE.build_nullable(row, 0, db)
        if attendee is None:
            result.append((room, None))
            continue
        attendee.room = room
        unread, common, partner = row[extra : extra + 3]
        caller_row = CallerRoomRow(
            attendee=attendee,
            last_message=_MESSAGE.build_nullable(row, _ATTENDEE.width + _ROOM.width + _PARENT.width, db),
            unread_messages=int(unread or 0),
            last_common_read_message=int(common or 0),
            partner_display_name=partner,
        )
        result.append((room, caller_row))
    return result


def caller_room_rows(
    *, user_id: int, username: str, scope: RoomScope = RoomScope.ALL, scope_params: Sequence[Any] = ()
) -> list[CallerRoomRow]:
    """The rooms of ``scope`` (its values in ``scope_params``) that the caller is in, by
    ascending room id: one statement whatever the number of rooms."""
    found = _caller_rooms_execute(
        user_id=user_id, username=username, scope=scope, scope_params=scope_params, every_room=False
    )
    return [caller_row for _, caller_row in found if caller_row is not None]


def breakout_listing_rows(
    *, user_id: int, username: str, parent_id: int
) -> list[tuple[Conversation, CallerRoomRow | None]]:
    """Every breakout room of ``parent_id`` by ascending id, each with the caller's row as in
    ``caller_room_rows`` where the caller is in it (None elsewhere): one statement."""
    return _caller_rooms_execute(
        user_id=user_id, username=username, scope=RoomScope.OF_PARENT, scope_params=[parent_id], every_room=True
    )


def _adapt(value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


# The caller's attendee row by token ---------------------------------------------------------


def _attendee_by_token_sql() -> str:
    attendees, rooms = _table(Attendee), _table(Conversation)
    return (
        f"SELECT {_ATTENDEE.select_list()}, {_ROOM.select_list()}, {_PARENT.select_list()}"
        f" FROM {attendees} a"
        f" INNER JOIN {rooms} r ON r.{_q('id')} = a.{_q('room_id')}"
        f" LEFT JOIN {rooms} p ON p.{_q('id')} = r.{_q('parent_id')}"
        f" WHERE r.{_q('token')} = %s AND a.{_q('actor_type')} = %s AND a.{_q('user_id')} = %s"
        f" ORDER BY a.{_q('id')} LIMIT 1"
    )


def attendee_by_token(*, user_id: int, token: str) -> Attendee | None:
    """The user's attendee row in the conversation ``token`` with its room and the room's
    parent loaded, or None: one statement."""
    db: BaseDatabaseWrapper = connections[DEFAULT_DB_ALIAS]  # the proxy resolves per access: once here
    with db.cursor() as cursor:
        cursor.execute(_statement("attendee_by_token", _attendee_by_token_sql), [token, Attendee.ACTOR_USERS, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    attendee = _ATTENDEE.build(row, 0, db)
    room = _ROOM.build(row, _ATTENDEE.width, db)
    room.parent = _PARENT.build_nullable(row, _ATTENDEE.width + _ROOM.width, db)
    attendee.room = room
    return attendee


# A chat page ---------------------------------------------------------------------------------

CHAT_PAGE_NEWEST = "newest"  # the newest messages (older than a message id when it is not 0)
CHAT_PAGE_FUTURE = "future"  # the oldest messages newer than a message id


def _chat_page_sql(direction: str, before: bool) -> str:
    messages = _table(ChatMessage)
    if direction == CHAT_PAGE_FUTURE:
        window, order = f" AND m.{_q('id')} > %s", "ASC"
    else:
        window, order = (f" AND m.{_q('id')} < %s" if before else ""), "DESC"
    return (
        f"SELECT {_MESSAGE.select_list()}, {_REPLY_TO.select_list()}"
        f" FROM {messages} m"
        f" LEFT JOIN {messages} rt ON rt.{_q('id')} = m.{_q('reply_to_id')}"
        f" WHERE m.{_q('room_id')} = %s"
        f" AND (m.{_q('expires_at')} IS NULL OR m.{_q('expires_at')} > %s){window}"
        f" ORDER BY m.{_q('id')} {order} LIMIT %s"
    )


def chat_page_rows(*, room_id: int, direction: str, message_id: int, limit: int, now: datetime) -> list[ChatMessage]:
    """A page of ``room_id``'s messages that have not expired at ``now``, each with the message
    it replies to loaded: one statement. ``CHAT_PAGE_FUTURE``: the ``limit`` oldest after
    ``message_id``, ascending; ``CHAT_PAGE_NEWEST``: the ``limit`` newest (before ``message_id``
    when it is positive), newest first."""
    before = direction == CHAT_PAGE_NEWEST and message_id > 0
    params: list[Any] = [room_id, _adapt(now)]
    if direction == CHAT_PAGE_FUTURE or before:
        params.append(message_id)
    params.append(limit)
    db: BaseDatabaseWrapper = connections[DEFAULT_DB_ALIAS]  # the proxy resolves per access: once here
    with db.cursor() as cursor:
        cursor.execute(_statement(f"chat_page:{direction}:{before}", lambda: _chat_page_sql(direction, before)), params)
        rows = cursor.fetchall()
    page = []
    for row in rows:
        message = _MESSAGE.build(row, 0, db)
        message.reply_to = _REPLY_TO.build_nullable(row, _MESSAGE.width, db)
        page.append(message)
    return page


# An app config value -------------------------------------------------------------------------


def app_config_value(key: str) -> str:
    """The app config value of ``key`` (its default when unset), read on every call like
    ``accounts.selectors.app_config_get`` (a change applies in every worker at once), by a
    statement built once: the Talk hash header of every room read needs it."""
    sql = _statement(
        "app_config_value",
        lambda: f"SELECT {_q('value')} FROM {_table(AppConfigValue)} WHERE {_q('key')} = %s",
    )
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    return AppConfigValue.DEFAULTS.get(key, "") if row is None else str(row[0])
