"""Reminders of chat messages (Talk's "remind me later"). A reminder belongs to the caller alone,
so each write touches only the caller's own row (an upsert or a delete) and takes no tree lock."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from conversations.models import Attendee, Reminder
from conversations.services.chat_guards import visible_message
from project.errors import BadRequest, NotFound, NotFoundInRoom


def _user_id(attendee: Attendee) -> int:
    """Reminders are for logged-in users (Talk: 404 for guests)."""
    if attendee.user_id is None:
        raise NotFound()
    return attendee.user_id


# datetime's own range; Talk takes any unix time.
TIMESTAMP_MAX = 253402300799  # 9999-12-31T23:59:59Z


@transaction.atomic
def reminder_set(*, attendee: Attendee, message_id: int, timestamp: int) -> Reminder:
    """Set (or move) the caller's reminder of a message of the room: 404 ``message`` when the
    message is unknown, 400 ``timestamp`` outside unix time's range."""
    message = visible_message(room=attendee.room, message_id=message_id, error="message")
    if not 0 <= timestamp <= TIMESTAMP_MAX:
        raise BadRequest("timestamp")
    remind_at = datetime.fromtimestamp(timestamp, tz=UTC)
    reminder, _ = Reminder.objects.update_or_create(
        user_id=_user_id(attendee), message=message, defaults={"remind_at": remind_at}
    )
    return reminder


def reminder_get(*, attendee: Attendee, message_id: int) -> Reminder:
    """The caller's reminder of a message: 404 ``message`` (unknown message), ``reminder`` (none)."""
    message = visible_message(room=attendee.room, message_id=message_id, error="message")
    reminder = Reminder.objects.filter(user_id=_user_id(attendee), message=message).first()
    if reminder is None:
        raise NotFoundInRoom("reminder")
    return reminder


@transaction.atomic
def reminder_delete(*, attendee: Attendee, message_id: int) -> None:
    """Remove the caller's reminder of a message (none is fine, as in Talk)."""
    message = visible_message(room=attendee.room, message_id=message_id, error="message")
    Reminder.objects.filter(user_id=_user_id(attendee), message=message).delete()
