"""Editing and deleting chat comments, and clearing a conversation's history (Talk's chat API v1).

Talk's rules: the author may edit or delete their own comments; moderators may edit or delete
anyone's, except in one-to-one conversations. Editing is possible for 24 hours (without limit in
a note-to-self conversation); deleting has no time limit (Talk's ``delete-messages-unlimited``).
System messages and deleted comments cannot be edited or deleted (405). Each operation answers
with the system message it posts (``message_edited``, ``message_deleted``, ``history_cleared``).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from conversations.models import Attendee, ChatMessage, Conversation, Reaction, Reminder
from conversations.services.chat import chat_message_text_validate, chat_system_message_post
from conversations.services.chat_guards import attendee_relock, chat_write_check, visible_message
from conversations.services.primitives import rich_user
from project.errors import BadRequest, Forbidden, ServiceError

EDIT_WINDOW = timedelta(days=1)
ONE_TO_ONE_TYPES = (Conversation.Type.ONE_TO_ONE, Conversation.Type.FORMER_ONE_TO_ONE)


class MethodNotAllowed(ServiceError):
    status_code = 405


def _editable_message(*, attendee: Attendee, message_id: int) -> ChatMessage:
    """The comment ``message_id`` of the caller's room, if the caller may change it: 404
    ``message`` when unknown, 403 ``permission`` when neither theirs nor moderated by them, 405
    ``message`` for system messages and deleted comments."""
    room = attendee.room
    message = visible_message(room=room, message_id=message_id, error="message")
    own = message.actor_type == attendee.actor_type and message.actor_id == attendee.actor_id
    if not own and (not attendee.is_moderator or room.type in ONE_TO_ONE_TYPES):
        raise Forbidden("permission")
    if message.message_type != ChatMessage.Type.COMMENT:
        raise MethodNotAllowed("message")
    return message


@transaction.atomic
def chat_message_edit(*, attendee: Attendee, message_id: int, message: str) -> ChatMessage:
    """Replace a comment's text and post ``message_edited`` answering it; returns the system
    message (its ``reply_to`` is the edited comment). Older than 24 hours: 400 ``age``."""
    attendee = attendee_relock(attendee)  # a demotion or removal racing the edit is seen here
    chat_write_check(attendee)
    target = _editable_message(attendee=attendee, message_id=message_id)
    if isinstance(target.parameters, dict) and "object" in target.parameters:
        raise MethodNotAllowed("message")  # a shared object (a poll) has no text to edit
    now = timezone.now()
    if attendee.room.type != Conversation.Type.NOTE_TO_SELF and target.created_at < now - EDIT_WINDOW:
        raise BadRequest("age")
    target.message = chat_message_text_validate(message)
    target.last_edit_actor_type = attendee.actor_type
    target.last_edit_actor_id = attendee.actor_id
    target.last_edit_actor_display_name = attendee.display_name
    target.last_edited_at = now
    target.save(
        update_fields=[
            "message",
            "last_edit_actor_type",
            "last_edit_actor_id",
            "last_edit_actor_display_name",
            "last_edited_at",
        ]
    )
    return chat_system_message_post(attendee=attendee, key="message_edited", reply_to=target, now=now)


@transaction.atomic
def chat_message_delete(*, attendee: Attendee, message_id: int) -> ChatMessage:
    """Replace a comment by Talk's placeholder (type ``comment_deleted``, text and reactions gone)
    and post ``message_deleted`` answering it; returns the system message."""
    attendee = attendee_relock(attendee)
    chat_write_check(attendee)
    target = _editable_message(attendee=attendee, message_id=message_id)
    now = timezone.now()
    target.message_type = ChatMessage.Type.COMMENT_DELETED
    target.message = ""
    target.parameters = {"actor": rich_user(attendee.actor_id, attendee.display_name)}
    target.save(update_fields=["message_type", "message", "parameters"])
    Reaction.objects.filter(message=target).delete()
    return chat_system_message_post(attendee=attendee, key="message_deleted", reply_to=target, now=now)


@transaction.atomic
def chat_history_clear(*, attendee: Attendee) -> ChatMessage:
    """Delete every message of the room (their reactions and reminders with them), reset every
    attendee's read and mention markers and post ``history_cleared``. Moderators only, never in a one-to-one
    conversation or a read-only one (403)."""
    attendee = attendee_relock(attendee)
    room = attendee.room
    if not attendee.is_moderator or room.type in ONE_TO_ONE_TYPES or room.read_only:
        raise Forbidden()
    # One statement each (a cascading delete() would load every message first): the reactions and
    # the reminders, then the whole chat at once (replies only point inside the same room).
    Reaction.objects.filter(message__room=room).delete()
    Reminder.objects.filter(message__room=room).delete()
    messages = ChatMessage.objects.filter(room=room)
    messages._raw_delete(messages.db)
    Attendee.objects.filter(room=room).update(last_read_message=0, last_mention_message=0, last_mention_direct=0)
    return chat_system_message_post(attendee=attendee, key="history_cleared", reply_to=None)
