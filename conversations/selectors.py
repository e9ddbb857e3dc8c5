"""Reads that carry domain meaning or need more than one query."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.selectors import app_config_get
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.serializers import participant_payload, room_payload
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


def room_payloads_for_user(*, user: User, rooms: Q | None = None) -> list[dict[str, Any]]:
    """Every conversation (optionally filtered by ``rooms``, a Q on Attendee) in which ``user``
    has an attendee row, formatted for them, in ascending id order. Two queries whatever the
    number of rooms: the annotated attendee rows, then their last messages."""
    queryset = _caller_rooms_queryset(user=user)
    if rooms is not None:
        queryset = queryset.filter(rooms)
    attendees = list(queryset)
    return format_attendee_rooms(attendees)


def format_attendee_rooms(attendees: Iterable[Attendee]) -> list[dict[str, Any]]:
    attendees = list(attendees)
    message_ids = [getattr(a, "last_message_id", None) for a in attendees]
    message_ids = [pk for pk in message_ids if pk]
    messages = ChatMessage.objects.in_bulk(message_ids) if message_ids else {}
    payloads = []
    for attendee in attendees:
        room = attendee.room
        display_name = None
        if room.type == Conversation.Type.ONE_TO_ONE:
            display_name = getattr(attendee, "partner_display_name", None) or room.name
        payloads.append(
            room_payload(
                attendee,
                last_message=messages.get(getattr(attendee, "last_message_id", None)),
                unread_messages=getattr(attendee, "unread_count", 0),
                last_common_read_message=getattr(attendee, "last_common_read", 0),
                display_name=display_name,
            )
        )
    return payloads


def room_payload_for_user(*, user: User, room: Conversation) -> dict[str, Any]:
    """One conversation formatted for ``user`` (who must be an attendee of it)."""
    payloads = room_payloads_for_user(user=user, rooms=Q(room=room))
    if not payloads:
        raise NotFound()
    return payloads[0]


def breakout_tree_payloads_for_user(*, user: User, parent: Conversation) -> list[dict[str, Any]]:
    """The breakout rooms of ``parent`` that ``user`` is in, by ascending id, then the parent
    (the response shape of configure, start, stop, broadcast and reorganize)."""
    payloads = room_payloads_for_user(user=user, rooms=Q(room=parent) | Q(room__parent=parent))
    rooms = [p for p in payloads if p["id"] != parent.pk]
    return rooms + [p for p in payloads if p["id"] == parent.pk]


def talk_config_hash() -> str:
    """Talk's ``X-Nextcloud-Talk-Hash``: a sha1 over the config values clients cache (including
    the ``breakout_rooms`` switch), so that clients refetch the capabilities when it changes."""
    values = {"breakout_rooms": app_config_get("breakout_rooms"), "chat_max_length": settings.CHAT_MAX_LENGTH}
    return hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()


def participant_payloads_for_room(*, room: Conversation, include_status: bool = False) -> list[dict[str, Any]]:
    """The participants of ``room`` in ascending attendee id order, in one query."""
    attendees = Attendee.objects.filter(room=room).order_by("id")
    return [participant_payload(attendee, room=room, include_status=include_status) for attendee in attendees]


def chat_messages_for_room(
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
