"""The conversation avatar of the Talk surface: an emoji on a coloured background (Talk's
``/room/{token}/avatar/emoji``), removed with ``DELETE /room/{token}/avatar`` (which removes an
uploaded picture too, see ``avatar_images``). Each change bumps ``avatarVersion`` so that clients
refetch the picture."""

from __future__ import annotations

import re
import secrets
from html import escape

from django.db import transaction

from accounts.models import User
from conversations.models import Attendee, Conversation, ConversationAvatar
from conversations.services.attendee_settings import moderator_relock
from conversations.services.primitives import SystemMessage, system_messages_post
from conversations.services.reactions import reaction_validate
from project.errors import BadRequest, ServiceError

COLOR = re.compile(r"[0-9a-fA-F]{6}")
DEFAULT_COLOR = "0082c9"  # Nextcloud blue
NO_AVATAR_TYPES = (Conversation.Type.ONE_TO_ONE, Conversation.Type.FORMER_ONE_TO_ONE)


def _bump(room: Conversation, *, emoji: str, color: str) -> None:
    if room.avatar_mime:  # an uploaded picture is replaced or removed
        ConversationAvatar.objects.filter(room_id=room.pk).delete()
    room.avatar_emoji, room.avatar_color, room.avatar_version = emoji, color, secrets.token_hex(8)
    room.avatar_mime = ""
    Conversation.objects.filter(pk=room.pk).update(
        avatar_emoji=emoji, avatar_color=color, avatar_mime="", avatar_version=room.avatar_version
    )


@transaction.atomic
def conversation_avatar_emoji_set(*, actor: User, attendee: Attendee, emoji: str, color: str | None) -> Conversation:
    """Moderators (403) give a conversation an emoji avatar: one emoji (400 ``emoji``) on a
    ``RRGGBB`` background (400 ``color``; none: Talk's default). Not for one-to-one
    conversations, whose picture is the other person's (400 ``type``)."""
    attendee = moderator_relock(attendee)
    room = attendee.room
    if room.type in NO_AVATAR_TYPES:
        raise BadRequest("type")
    try:
        emoji = reaction_validate(emoji)
    except ServiceError:
        raise BadRequest("emoji") from None
    if color and not COLOR.fullmatch(color):
        raise BadRequest("color")
    _bump(room, emoji=emoji, color=(color or "").lower())
    system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key="avatar_set")])
    return room


@transaction.atomic
def conversation_avatar_delete(*, actor: User, attendee: Attendee) -> Conversation:
    """Moderators (403) remove the custom avatar, emoji or uploaded (nothing happens without one)."""
    attendee = moderator_relock(attendee)
    room = attendee.room
    if room.avatar_emoji or room.avatar_mime:
        _bump(room, emoji="", color="")
        system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key="avatar_removed")])
    return room


def avatar_svg(room: Conversation, *, dark: bool = False) -> str:
    """The conversation's picture as SVG: its emoji on its colour, else the first letter of its
    name on the default colour (a dark background for the dark theme without a colour)."""
    if room.avatar_emoji:
        text = room.avatar_emoji
        background = room.avatar_color or ("3b3b3b" if dark else "dbdbdb")
        font = "'Noto Color Emoji', 'Apple Color Emoji', 'Segoe UI Emoji', sans-serif"
    else:
        text = (room.name.strip()[:1] or "#").upper()
        background = DEFAULT_COLOR
        font = "sans-serif"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">'
        f'<rect width="512" height="512" fill="#{background}"/>'
        f'<text x="50%" y="50%" dominant-baseline="central" text-anchor="middle" fill="#ffffff" '
        f'font-size="280" font-family="{escape(font)}">{escape(text)}</text></svg>'
    )
