"""Reads that carry domain meaning or need more than one query."""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.selectors import app_config_get
from conversations.models import Attendee, ChatMessage, Conversation
from project.errors import NotFound


def attendee_get_for_user(*, user: User, token: str, for_update: bool = False) -> Attendee:
    """The caller's attendee row in the conversation ``token``, with the room (and its parent)
    loaded. Unknown tokens and rooms the caller is not in raise the same 404 (decision 13)."""
    queryset = Attendee.objects.select_related("room", "room__parent").filter(
        room__token=token, actor_type=Attendee.ACTOR_USERS, user=user
    )
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    attendee = queryset.first()
    if attendee is None:
        raise NotFound()
    return attendee


def _caller_rooms_queryset(*, user: User) -> QuerySet[Attendee]:
    last_message_id = Subquery(ChatMessage.objects.filter(room=OuterRef("room_id")).order_by("-id").values("id")[:1])
    unread = Subquery(
        ChatMessage.objects.filter(
            room=OuterRef("room_id"),
            id__gt=OuterRef("last_read_message"),
            message_type=ChatMessage.Type.COMMENT,
        )
        .exclude(actor_type=Attendee.ACTOR_USERS, actor_id=user.username)
        .order_by()
        .values("room")
        .annotate(count=Count("id"))
        .values("count"),
        output_field=IntegerField(),
    )
    last_common_read = Subquery(
        Attendee.objects.filter(room=OuterRef("room_id"), actor_type=Attendee.ACTOR_USERS)
        .order_by()
        .values("room")
        .annotate(common=Min("last_read_message"))
        .values("common"),
        output_field=IntegerField(),
    )
    one_to_one_partner = Subquery(
        Attendee.objects.filter(room=OuterRef("room_id"), actor_type=Attendee.ACTOR_USERS)
        .exclude(user=user)
        .order_by("id")
        .values("display_name")[:1]
    )
    return (
        Attendee.objects.filter(user=user, actor_type=Attendee.ACTOR_USERS)
        .select_related("room", "room__parent")
        .annotate(
            last_message_id=last_message_id,
            unread_count=Coalesce(unread, Value(0)),
            last_common_read=Coalesce(last_common_read, Value(0)),
            partner_display_name=one_to_one_partner,
        )
        .order_by("room_id")
    )


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


def caller_rooms(*, user: User, rooms: Q | None = None) -> list[CallerRoom]:
    """Every conversation (optionally filtered by ``rooms``, a Q on Attendee) in which ``user``
    has an attendee row, in ascending id order. Two queries whatever the number of rooms: the
    annotated attendee rows, then their last messages."""
    queryset = _caller_rooms_queryset(user=user)
    if rooms is not None:
        queryset = queryset.filter(rooms)
    # Rows annotated by _caller_rooms_queryset (last_message_id, unread_count, last_common_read,
    # partner_display_name).
    attendees: list[Any] = list(queryset)
    message_ids = [attendee.last_message_id for attendee in attendees if attendee.last_message_id]
    messages = ChatMessage.objects.in_bulk(message_ids) if message_ids else {}
    result = []
    for attendee in attendees:
        display_name = None
        if attendee.room.type == Conversation.Type.ONE_TO_ONE:
            display_name = attendee.partner_display_name or attendee.room.name
        result.append(
            CallerRoom(
                attendee=attendee,
                last_message=messages.get(attendee.last_message_id),
                unread_messages=attendee.unread_count,
                last_common_read_message=attendee.last_common_read,
                display_name=display_name,
            )
        )
    return result


def breakout_tree_caller_rooms(*, user: User, parent: Conversation) -> list[CallerRoom]:
    """The breakout rooms of ``parent`` that ``user`` is in, by ascending id, then the parent."""
    found = caller_rooms(user=user, rooms=Q(room=parent) | Q(room__parent=parent))
    return [c for c in found if c.room.pk != parent.pk] + [c for c in found if c.room.pk == parent.pk]


def talk_config_hash() -> str:
    """Talk's ``X-Nextcloud-Talk-Hash``: a sha1 over the config values clients cache (including
    the ``breakout_rooms`` switch), so that clients refetch the capabilities when it changes."""
    values = {"breakout_rooms": app_config_get("breakout_rooms"), "chat_max_length": settings.CHAT_MAX_LENGTH}
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
    """One page of a room's chat in one query, expired messages left out.

    History (``look_into_future`` false): the ``limit`` newest messages older than
    ``last_known_message_id`` (all when it is 0), newest first. Future: the ``limit`` oldest
    messages newer than ``last_known_message_id``, ascending.
    """
    queryset = (
        ChatMessage.objects.filter(room=room)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .select_related("reply_to")
    )
    if look_into_future:
        return list(queryset.filter(pk__gt=last_known_message_id).order_by("id")[:limit])
    if last_known_message_id > 0:
        queryset = queryset.filter(pk__lt=last_known_message_id)
    return list(queryset.order_by("-id")[:limit])
