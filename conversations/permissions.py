"""Talk's permission rules of an attendee in a conversation (domain rules, read by services and
presenters alike)."""

from __future__ import annotations

from conversations.models import Attendee, Conversation

PERMISSION_CUSTOM = 1
PERMISSION_START_CALL = 2
PERMISSION_JOIN_CALL = 4
PERMISSION_LOBBY_IGNORE = 8
PERMISSION_CHAT = 128
PERMISSIONS_MAX_DEFAULT = 254
PERMISSIONS_DEFAULT_FOR_USERS = PERMISSIONS_MAX_DEFAULT & ~PERMISSION_LOBBY_IGNORE


def effective_permissions(attendee: Attendee, room: Conversation) -> int:
    """Talk's Participant::getPermissions(): moderators can do everything, others fall back from
    their own permissions to the room's default and then the instance default."""
    if attendee.is_moderator:
        return PERMISSIONS_MAX_DEFAULT
    if attendee.permissions:
        return attendee.permissions
    if room.default_permissions:
        return room.default_permissions
    return PERMISSIONS_DEFAULT_FOR_USERS


def is_held_in_lobby(attendee: Attendee, room: Conversation) -> bool:
    """A non-moderator without the lobby-ignore permission in a room whose lobby is on."""
    return (
        room.lobby_state == Conversation.Lobby.NON_MODERATORS
        and not attendee.is_moderator
        and not effective_permissions(attendee, room) & PERMISSION_LOBBY_IGNORE
    )


def can_chat(attendee: Attendee, room: Conversation) -> bool:
    """Whether ``attendee`` may post comments in ``room`` (not read-only, chat permission)."""
    return not room.read_only and bool(effective_permissions(attendee, room) & PERMISSION_CHAT)
