"""The one extension point of the conversation services: the rules of another app about the
conversation tree (a parent and its breakout rooms).

``conversations`` never imports ``breakout``; the breakout app registers its ``TreeRules`` in
``BreakoutConfig.ready()``. Without a registration the services apply these defaults, the
behaviour of plain Talk conversations. Every method is called with the tree lock held, inside
the calling service's transaction, and must keep the query count independent of the tree's size.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q

from accounts.models import User
from conversations.models import Attendee, Conversation

if TYPE_CHECKING:
    from conversations.services.primitives import Placement


class RoomSetting(StrEnum):
    LOBBY = "lobby"
    LISTABLE = "listable"
    PUBLIC = "public"
    PASSWORD = "password"
    MESSAGE_EXPIRATION = "message-expiration"


class TreeRules:
    """Plain conversations: no rules beyond the conversation's own."""

    def setting_change_check(self, *, room: Conversation, setting: RoomSetting, enable: bool = True) -> None:
        """Raise the contract's error when ``setting`` of ``room`` may not change (``enable``: the
        setting is being turned on, where that matters)."""

    def participant_add_to_child(self, *, actor: User, room: Conversation, user: User) -> list[Attendee] | None:
        """Add ``user`` to ``room``, a room with a parent, by the tree's rules; ``None``: add them
        as to any conversation."""
        return None

    def attendee_protected_in_child(self, *, room: Conversation, attendee: Attendee) -> bool:
        """Whether ``attendee`` of ``room`` (a room with a parent) may not be removed, demoted or
        leave (400 ``moderator``)."""
        return False

    def removal_cascade(self, *, room: Conversation, attendee: Attendee) -> list[Attendee]:
        """Further rows to remove with ``attendee`` of ``room`` (e.g. the same actor's rows in the
        rooms below it)."""
        return []

    def participant_type_changed(self, *, actor: User, room: Conversation, attendee: Attendee, old_type: int) -> None:
        """``attendee`` of ``room`` changed from ``old_type`` to ``attendee.participant_type``."""

    def child_room_members(self, *, actor: User, room: Conversation) -> list[Placement]:
        """Who joins ``room``, just created below ``room.parent`` with ``actor`` as its owner,
        besides ``actor`` (added in the same bulk insert)."""
        return []

    def child_name_check(self, *, parent: Conversation, name: str, room: Conversation | None = None) -> None:
        """Raise the contract's error when a room below ``parent`` (``room`` itself when it is
        being renamed, ``None`` for a new one) may not be called ``name``."""

    def tree_end_reached(self, *, root: Conversation) -> Conversation:
        """``root`` (locked) has a ``breakout_ends_at`` that has passed: end it and return the
        root as it now is. Plain conversations have no such end: it is cleared."""
        Conversation.objects.filter(Q(pk=root.pk) | Q(parent_id=root.pk)).update(breakout_ends_at=None)
        root.breakout_ends_at = None
        return root

    def child_rooms_created(self, *, parent: Conversation, rooms: list[Conversation]) -> None:
        """``rooms`` were just created below ``parent`` (for example: they inherit its bots)."""


_registered = TreeRules()


def tree_rules() -> TreeRules:
    return _registered


def tree_rules_register(rules: TreeRules) -> None:
    """Called once, from an app's ``ready()``."""
    global _registered
    _registered = rules
