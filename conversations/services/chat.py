"""Chat writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from conversations.models import Attendee, ChatMessage, Conversation
from conversations.services.chat_guards import chat_write_check
from conversations.services.primitives import chat_events_add, rich_user, room_tree_lock, rooms_touch
from conversations.services.read_markers import mention_markers_update
from live.services import events_record
from project.errors import BadRequest, NotFound, PayloadTooLarge

# PHP's trim(): space, tab, newline, carriage return, NUL and vertical tab.
TRIM_CHARACTERS = " \t\n\r\0\x0b"
REFERENCE_ID_MAX_LENGTH = 64


def chat_message_text_validate(message: str) -> str:
    """The message as it is stored: trimmed, not empty and free of NUL (400 ``message``), at most
    ``CHAT_MAX_LENGTH`` code points (413 ``message``), as the contract counts them."""
    text = message.strip(TRIM_CHARACTERS)
    if not text or "\x00" in text:  # PostgreSQL text cannot hold NUL characters
        raise BadRequest("message")
    if len(text) > settings.CHAT_MAX_LENGTH:
        raise PayloadTooLarge("message")
    return text


@transaction.atomic
def chat_message_post(
    *,
    attendee: Attendee,
    message: str,
    reply_to: int = 0,
    reference_id: str = "",
) -> ChatMessage:
    """Post a comment as ``attendee`` into its room. Read-only rooms and attendees without the chat
    permission get 403. Bumps the room's last activity and the poster's read marker.

    Under the tree lock, so that a post cannot land in a breakout room that a concurrent
    reorganize or switch has just taken the poster out of; the poster's row, role and the lobby
    are read again under it (gone meanwhile: 404; now held in the lobby: 412)."""
    room = room_tree_lock(attendee.room)
    fresh = Attendee.objects.filter(pk=attendee.pk, room=room).first()
    if fresh is None:
        raise NotFound()
    attendee = fresh
    attendee.room = room
    chat_write_check(attendee)
    created = chat_comment_write(
        room=room, author=attendee, message=message, reply_to=reply_to, reference_id=reference_id
    )
    Attendee.objects.filter(pk=attendee.pk).update(last_read_message=Greatest(F("last_read_message"), created.pk))
    return created


def chat_comment_write(
    *, room: Conversation, author: Attendee, message: str, reply_to: int, reference_id: str
) -> ChatMessage:
    """Write a comment of ``author`` into ``room``, whose tree the caller has locked and whose
    rules for ``author`` it has checked; ``author`` is an unsaved row for a poster who is no
    attendee (a bot). The text as ``chat_message_text_validate`` keeps it, a reference id of at
    most ``REFERENCE_ID_MAX_LENGTH`` characters (400 ``referenceId``), a reply only to a comment
    of the same room (400 ``replyTo``). Bumps the room's last activity, the mention markers of
    the others and records the ``chat.message`` event."""
    text = chat_message_text_validate(message)
    if len(reference_id) > REFERENCE_ID_MAX_LENGTH:
        raise BadRequest("referenceId")
    parent = None
    if reply_to:
        parent = ChatMessage.objects.filter(room=room, pk=reply_to, message_type=ChatMessage.Type.COMMENT).first()
        if parent is None:
            raise BadRequest("replyTo")
    now = timezone.now()
    expires_at = now + timedelta(seconds=room.message_expiration) if room.message_expiration else None
    created = ChatMessage.objects.create(
        room=room,
        actor_type=author.actor_type,
        actor_id=author.actor_id,
        actor_display_name=author.display_name,
        message_type=ChatMessage.Type.COMMENT,
        message=text,
        reference_id=reference_id,
        reply_to=parent,
        created_at=now,
        expires_at=expires_at,
    )
    Conversation.objects.filter(pk=room.pk).update(last_activity=now)
    mention_markers_update(message=created, author=author)  # Talk surface (issue 10): unreadMention
    events_record(
        type="chat.message",
        token=room.token,
        parent_token=room.parent.token if room.parent is not None else None,
        actor_id=author.actor_id,
        payload={"messageId": created.pk},
    )
    return created


def chat_system_message_post(
    *, attendee: Attendee, key: str, reply_to: ChatMessage | None, message: str = "", now: datetime | None = None
) -> ChatMessage:
    """Post the system message ``key`` of ``attendee``'s change in its room (the edit, deletion,
    cleared history or reaction, answering ``reply_to``), bump the room's last activity and
    record the ``chat.message`` event. The caller holds the tree lock."""
    now = now or timezone.now()
    created = ChatMessage.objects.create(
        room=attendee.room,
        actor_type=attendee.actor_type,
        actor_id=attendee.actor_id,
        actor_display_name=attendee.display_name,
        message_type=ChatMessage.Type.SYSTEM,
        system_message=key,
        message=message,
        parameters={"actor": rich_user(attendee.actor_id, attendee.display_name)},
        reply_to=reply_to,
        created_at=now,
    )
    rooms_touch(room_ids=[attendee.room_id], now=now)
    chat_events_add(messages=[created], actor_id=attendee.actor_id, rooms=[attendee.room])
    return created


def chat_read_marker_advance(*, attendee: Attendee, message_id: int) -> None:
    """Move the attendee's read marker forward to ``message_id`` (never backwards). No write at
    all when the row just read is already there: many long polls of one user woken by one
    message would otherwise each take the write lock for nothing."""
    if attendee.last_read_message >= message_id:
        return
    with transaction.atomic():
        Attendee.objects.filter(pk=attendee.pk, last_read_message__lt=message_id).update(last_read_message=message_id)


def chat_read_markers_advance(*, targets: Mapping[int, int]) -> None:
    """``chat_read_marker_advance`` for many attendees at once (attendee id -> message id, the
    rows already known to be behind): one UPDATE per distinct message id, in one transaction, so
    a mass wake-up of long polls of one room costs one statement, not one per waiter."""
    by_message: dict[int, list[int]] = {}
    for attendee_id, message_id in targets.items():
        by_message.setdefault(message_id, []).append(attendee_id)
    if not by_message:
        return
    with transaction.atomic():
        for message_id in sorted(by_message):
            Attendee.objects.filter(pk__in=sorted(by_message[message_id]), last_read_message__lt=message_id).update(
                last_read_message=message_id
            )
