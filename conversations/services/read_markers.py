"""The caller's read marker (Talk's ``POST``/``DELETE /chat/{token}/read``) and the mention
markers that make ``unreadMention``/``unreadMentionDirect``.

Each write is one conditional UPDATE of the caller's own attendee row: no other row's state
depends on it, so it takes no tree lock; a row removed meanwhile updates nothing and answers 404.
"""

from __future__ import annotations

import re

from django.db import transaction

from conversations.models import Attendee, ChatMessage
from project.errors import NotFound

# Talk's ChatManager::UNREAD_FIRST_MESSAGE: "nothing read yet", used where 0 would be ambiguous.
UNREAD_FIRST_MESSAGE = -2
# ``@id``, ``@"id with spaces"``; ``@all`` mentions everyone (not directly).
MENTION = re.compile(r'(?:^|[\s(])@(?:"([^"]+)"|([\w.@\-\']+))')


def _update_own_marker(*, attendee: Attendee, value: int) -> None:
    if not Attendee.objects.filter(pk=attendee.pk).update(last_read_message=value):
        raise NotFound()
    attendee.last_read_message = value


@transaction.atomic
def chat_read_marker_set(*, attendee: Attendee, last_read_message: int | None) -> None:
    """Set the caller's read marker to ``last_read_message`` (backwards too, as in Talk), or to the
    newest message of the room when it is None; 0 means "nothing read" (``-2``, as Talk stores it)."""
    if last_read_message is None:
        newest = ChatMessage.objects.filter(room_id=attendee.room_id).order_by("-id").values_list("id", flat=True)
        last_read_message = newest.first() or 0
    _update_own_marker(attendee=attendee, value=last_read_message or UNREAD_FIRST_MESSAGE)


@transaction.atomic
def chat_mark_unread(*, attendee: Attendee) -> None:
    """Put the read marker just before the newest comment (Talk: the comment before it, else the
    message before the newest message, else "nothing read"), so that the newest comment counts
    as unread."""
    ids = ChatMessage.objects.filter(room_id=attendee.room_id).order_by("-id")
    newest_comment = ids.filter(message_type=ChatMessage.Type.COMMENT).values_list("id", flat=True).first()
    previous = None
    if newest_comment is not None:
        previous = (
            ids.filter(id__lt=newest_comment, message_type=ChatMessage.Type.COMMENT)
            .values_list("id", flat=True)
            .first()
        )
    if previous is None:
        newest = ids.values_list("id", flat=True).first()
        if newest is not None:
            previous = ids.filter(id__lt=newest).values_list("id", flat=True).first()
    _update_own_marker(attendee=attendee, value=previous or UNREAD_FIRST_MESSAGE)


def mentioned_actor_ids(text: str) -> tuple[set[str], bool]:
    """The user ids mentioned in ``text`` and whether it mentions everyone (``@all``)."""
    ids = {quoted or plain for quoted, plain in MENTION.findall(text)}
    everyone = "all" in ids
    ids.discard("all")
    return ids, everyone


def mention_markers_update(*, message: ChatMessage, author: Attendee) -> None:
    """Record in the mentioned attendees' rows that ``message`` mentions them: at most two
    UPDATEs whatever the number of attendees (direct mentions, then ``@all``)."""
    ids, everyone = mentioned_actor_ids(message.message)
    others = Attendee.objects.filter(room_id=message.room_id).exclude(pk=author.pk)
    if ids:
        others.filter(actor_type=Attendee.ACTOR_USERS, actor_id__in=ids).update(
            last_mention_message=message.pk, last_mention_direct=message.pk
        )
    if everyone:
        others.update(last_mention_message=message.pk)
