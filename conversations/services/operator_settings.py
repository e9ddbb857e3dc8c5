"""A site operator's edit of a conversation's settings (the admin's change form), made through the
same services as the API, so that system messages, events and rules are the same: a rename posts
``conversation_renamed``, a lobby change ``lobby_non_moderators``, a breakout room refuses a
listable scope (400 ``breakout-room``), default permissions reset the attendees' own ones...
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from conversations.models import Conversation
from conversations.services.attendee_settings import (
    conversation_default_permissions_set_by_operator,
    conversation_read_only_set_by_operator,
)
from conversations.services.lobby import conversation_lobby_set
from conversations.services.primitives import room_tree_lock
from conversations.services.room_settings import (
    conversation_description_set,
    conversation_listable_set,
    conversation_message_expiration_set,
    conversation_rename,
)

# Settings that Talk changes through endpoints this service does not offer (SIP, recording
# consent, mention permissions, call permissions): they post no system message in Talk either.
PLAIN_SETTINGS = ("call_permissions", "sip_enabled", "recording_consent", "mention_permissions")
# The settings of a conversation's admin page (its "Settings" fieldset), then every field an
# operator may change there.
ROOM_SETTINGS = (
    "lobby_state",
    "lobby_timer",
    "read_only",
    "listable",
    "message_expiration",
    "default_permissions",
    *PLAIN_SETTINGS,
)
OPERATOR_SETTINGS = ("name", "description", *ROOM_SETTINGS)


@transaction.atomic
def conversation_settings_save_by_operator(
    *, actor: User, room: Conversation, changes: Mapping[str, Any]
) -> Conversation:
    """Apply the changed settings ``changes`` (model field name -> new value, only the fields
    that changed) of ``room`` as the operator ``actor`` (authorised by the admin's permissions,
    not an attendee), each through its service, all in one transaction under the tree lock:
    the first refusal (``ServiceError`` with the API's error key) leaves everything unchanged.
    Returns the room as saved."""
    unknown = set(changes) - set(OPERATOR_SETTINGS)
    if unknown:
        raise ValueError(f"not an operator setting: {sorted(unknown)}")
    room = room_tree_lock(room)
    if "name" in changes:
        room = conversation_rename(actor=actor, room=room, name=changes["name"], by_operator=True)
    if "description" in changes:
        room = conversation_description_set(
            actor=actor, room=room, description=changes["description"], by_operator=True
        )
    if "lobby_state" in changes or "lobby_timer" in changes:
        state = changes.get("lobby_state", room.lobby_state)
        timer: datetime | None = changes.get("lobby_timer", room.lobby_timer)
        room = conversation_lobby_set(
            actor=actor,
            room=room,
            state=state,
            timer=int(timer.timestamp()) if timer is not None else None,
            by_operator=True,
        )
    if "read_only" in changes:
        room = conversation_read_only_set_by_operator(actor=actor, room=room, state=changes["read_only"])
    if "listable" in changes:
        room = conversation_listable_set(actor=actor, room=room, scope=changes["listable"], by_operator=True)
    if "message_expiration" in changes:
        room = conversation_message_expiration_set(
            actor=actor, room=room, seconds=changes["message_expiration"], by_operator=True
        )
    if "default_permissions" in changes:
        room = conversation_default_permissions_set_by_operator(room=room, permissions=changes["default_permissions"])
    plain = {name: changes[name] for name in PLAIN_SETTINGS if name in changes}
    if plain:
        Conversation.objects.filter(pk=room.pk).update(**plain)
        for name, value in plain.items():
            setattr(room, name, value)
    return room
