"""The checks every chat write of the Talk surface (reactions, edits, deletions, clearing) repeats
under the tree lock: the caller is still an attendee, the lobby lets them in, they may chat and
the conversation is not read-only."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from conversations.models import Attendee, ChatMessage, Conversation
from conversations.permissions import can_chat, is_held_in_lobby
from conversations.services.primitives import conversation_tree_lock
from project.errors import Forbidden, NotFound, NotFoundInRoom, PreconditionFailed

MESSAGE_ID_MAX = 2**63 - 1


def attendee_relock(attendee: Attendee) -> Attendee:
    """Lock ``attendee``'s conversation tree (the parent row first, as every tree writer does) and
    return the caller's attendee row read again under the lock, with its room fresh.

    A removal, demotion or a lobby switch that committed while this request waited is seen here,
    so the checks that follow decide on the state the write will change. Gone: 404, as for any
    conversation the caller is not in.
    """
    room = attendee.room
    root = conversation_tree_lock(parent_id=room.parent_id or room.pk)
    fresh = (
        Attendee.objects.select_related("room", "room__parent")
        .select_for_update(of=("self",))
        .filter(pk=attendee.pk)
        .first()
    )
    if fresh is None:
        raise NotFound()
    if fresh.room_id == root.pk:
        fresh.room = root
    return fresh


def chat_write_check(attendee: Attendee) -> Conversation:
    """Talk's RequireModeratorOrNoLobby (412), RequirePermission(CHAT) and
    RequireReadWriteConversation (403) for a write into the chat."""
    room = attendee.room
    if is_held_in_lobby(attendee, room):
        raise PreconditionFailed()
    if not can_chat(attendee, room):
        raise Forbidden()
    return room


def visible_message(*, room: Conversation, message_id: int, error: str | None = None) -> ChatMessage:
    """A message of ``room`` that has not expired; 404 (with ``error`` as key) otherwise (also for
    ids beyond the database's 64-bit range, which the URL's digits can spell)."""
    if not 0 < message_id <= MESSAGE_ID_MAX:
        raise NotFoundInRoom(error)
    message = (
        ChatMessage.objects.filter(room=room, pk=message_id)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )
    if message is None:
        raise NotFoundInRoom(error)
    return message


def visible_comment(
    *, room: Conversation, message_id: int, not_comment: type[Exception] = NotFoundInRoom
) -> ChatMessage:
    """``visible_message`` that is a comment: a system message or a deleted comment raises
    ``not_comment`` (reactions: 400 when adding, 404 otherwise)."""
    message = visible_message(room=room, message_id=message_id)
    if message.message_type != ChatMessage.Type.COMMENT:
        raise not_comment()
    return message
