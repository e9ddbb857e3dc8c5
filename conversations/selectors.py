"""Reads that carry domain meaning or need more than one query."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from conversations import sql_reads
from conversations.models import Attendee, ChatMessage, Conversation
from project.errors import NotFound


def attendee_get_for_user(*, user: User, token: str, for_update: bool = False) -> Attendee:
    """The caller's attendee row in the conversation ``token``, with the room (and its parent)
    loaded. Unknown tokens and rooms the caller is not in raise the same 404 (decision 13)."""
    if for_update:
        attendee = (
            Attendee.objects.select_related("room", "room__parent")
            .filter(room__token=token, actor_type=Attendee.ACTOR_USERS, user=user)
            .select_for_update(of=("self",))
            .first()
        )
    else:
        attendee = sql_reads.attendee_by_token(user_id=user.pk, token=token)
    if attendee is None:
        raise NotFound()
    return attendee


@dataclass(frozen=True)
class CallerRoom:
    """A conversation as one caller sees it: their attendee row (with the room and its parent
    loaded) and the per-caller values of the room object."""

    attendee: Attendee
    last_message: ChatMessage | None
    unread_messages: int
    last_common_read_message: int
    display_name: str | None

    @property
    def room(self) -> Conversation:
        return self.attendee.room


def _caller_room(row: sql_reads.CallerRoomRow) -> CallerRoom:
    room = row.attendee.room
    display_name = None
    if room.type == Conversation.Type.ONE_TO_ONE:
        display_name = row.partner_display_name or room.name
    return CallerRoom(
        attendee=row.attendee,
        last_message=row.last_message,
        unread_messages=row.unread_messages,
        last_common_read_message=row.last_common_read_message,
        display_name=display_name,
    )


def _caller_rooms(*, user: User, scope: sql_reads.RoomScope, params: Sequence[Any] = ()) -> list[CallerRoom]:
    rows = sql_reads.caller_room_rows(user_id=user.pk, username=user.username, scope=scope, scope_params=params)
    return [_caller_room(row) for row in rows]


def caller_rooms(*, user: User, modified_since: datetime | None = None) -> list[CallerRoom]:
    """Every conversation in which ``user`` has an attendee row (only those whose last activity
    is at or after ``modified_since`` when given), in ascending id order: one query whatever
    the number of rooms (``sql_reads.caller_room_rows``)."""
    if modified_since is None:
        return _caller_rooms(user=user, scope=sql_reads.RoomScope.ALL)
    return _caller_rooms(user=user, scope=sql_reads.RoomScope.MODIFIED_SINCE, params=[modified_since])


def caller_room(*, user: User, room: Conversation | None = None, token: str | None = None) -> CallerRoom:
    """One conversation (by ``room`` or by ``token``) as ``user`` sees it: one query; 404 when
    they are not an attendee of it."""
    if room is not None:
        found = _caller_rooms(user=user, scope=sql_reads.RoomScope.BY_ID, params=[room.pk])
    else:
        found = _caller_rooms(user=user, scope=sql_reads.RoomScope.BY_TOKEN, params=[token])
    if not found:
        raise NotFound()
    return found[0]


def breakout_listing_caller_rooms(*, user: User, parent: Conversation) -> list[tuple[Conversation, CallerRoom | None]]:
    """Every breakout room of ``parent`` by ascending id, with ``user``'s view of it where they
    are an attendee of it (None elsewhere): one query."""
    rows = sql_reads.breakout_listing_rows(user_id=user.pk, username=user.username, parent_id=parent.pk)
    return [(room, _caller_room(row) if row is not None else None) for room, row in rows]


def breakout_tree_caller_rooms(*, user: User, parent: Conversation) -> list[CallerRoom]:
    """The breakout rooms of ``parent`` that ``user`` is in, by ascending id, then the parent:
    one query."""
    found = _caller_rooms(user=user, scope=sql_reads.RoomScope.TREE, params=[parent.pk, parent.pk])
    return [c for c in found if c.room.pk != parent.pk] + [c for c in found if c.room.pk == parent.pk]


def talk_config_hash() -> str:
    """Talk's ``X-Nextcloud-Talk-Hash``: a sha1 over the config values clients cache (including
    the ``breakout_rooms`` switch), so that clients refetch the capabilities when it changes."""
    values = {
        "breakout_rooms": sql_reads.app_config_value("breakout_rooms"),
        "chat_max_length": settings.CHAT_MAX_LENGTH,
    }
    return hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()


def participants_of_room(*, room: Conversation) -> QuerySet[Attendee]:
    """The participants of ``room`` in ascending attendee id order (one query)."""
    return Attendee.objects.filter(room=room).order_by("id")


# Long polls woken by one message ask for the same page at the same moment: the first of them
# reads it, the others of this process wait for that read instead of repeating it (keyed by room,
# lastKnownMessageId and limit; only reads in flight are shared, nothing is kept afterwards, so
# no one gets a page older than their request). The rows are shared read-only; each request
# renders them for its own user (read markers, reactionsSelf, "You" texts).
_pages_in_flight: dict[tuple[int, int, int], Future[list[ChatMessage]]] = {}
_pages_lock = threading.Lock()


def chat_messages_for_room(
    *, room: Conversation, look_into_future: bool, limit: int, last_known_message_id: int = 0
) -> list[ChatMessage]:
    """``chat_page_read``; reads of the same future page running at once in this process share
    one query (see ``_pages_in_flight``)."""
    if not look_into_future or connection.in_atomic_block:  # a transaction sees its own rows
        return chat_page_read(
            room=room, look_into_future=look_into_future, limit=limit, last_known_message_id=last_known_message_id
        )
    key = (room.pk, last_known_message_id, limit)
    with _pages_lock:
        shared = _pages_in_flight.get(key)
        if shared is None:
            mine: Future[list[ChatMessage]] = Future()
            _pages_in_flight[key] = mine
    if shared is not None:
        return list(shared.result())
    try:
        page = chat_page_read(
            room=room, look_into_future=True, limit=limit, last_known_message_id=last_known_message_id
        )
        mine.set_result(page)
        return list(page)
    except BaseException as error:
        mine.set_exception(error)
        raise
    finally:
        with _pages_lock:
            _pages_in_flight.pop(key, None)


def chat_page_read(
    *, room: Conversation, look_into_future: bool, limit: int, last_known_message_id: int = 0
) -> list[ChatMessage]:
    """One page of a room's chat in one query, expired messages left out, each with the message
    it replies to loaded (``sql_reads.chat_page_rows``).

    History (``look_into_future`` false): the ``limit`` newest messages older than
    ``last_known_message_id`` (all when it is 0), newest first. Future: the ``limit`` oldest
    messages newer than ``last_known_message_id``, ascending.
    """
    return sql_reads.chat_page_rows(
        room_id=room.pk,
        direction=sql_reads.CHAT_PAGE_FUTURE if look_into_future else sql_reads.CHAT_PAGE_NEWEST,
        message_id=last_known_message_id,
        limit=limit,
        now=timezone.now(),
    )
