"""Per-attendee and per-conversation settings of the Talk surface: favorites and notification
levels (the caller's own row), read-only and permissions (moderators).

The caller's own settings are one conditional UPDATE of their row (nothing else depends on them;
a row removed meanwhile updates nothing and answers 404). Read-only and permissions change what
others may do, so they lock the tree and re-check the caller's role under the lock.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from conversations.models import Attendee, Conversation
from conversations.permissions import PERMISSION_CUSTOM, effective_permissions
from conversations.services.chat_guards import attendee_relock
from conversations.services.primitives import SystemMessage, room_tree_lock, system_messages_post
from project.errors import BadRequest, Forbidden, NotFound

# Talk's Participant::NOTIFY_DEFAULT, _ALWAYS, _MENTION, _NEVER and NOTIFY_CALLS_OFF, _ON.
NOTIFICATION_LEVELS = (0, 1, 2, 3)
NOTIFICATION_CALL_LEVELS = (0, 1)
READ_ONLY_STATES = {0: "read_only_off", 1: "read_only"}
READ_ONLY_TYPES = (Conversation.Type.GROUP, Conversation.Type.PUBLIC, Conversation.Type.CHANGELOG)
NO_PERMISSION_TYPES = (
    Conversation.Type.ONE_TO_ONE,
    Conversation.Type.FORMER_ONE_TO_ONE,
    Conversation.Type.NOTE_TO_SELF,
)
PERMISSIONS_MAX = 255
PERMISSION_METHODS = ("set", "add", "remove")


def _own_row_update(attendee: Attendee, **values: int | bool) -> None:
    if not Attendee.objects.filter(pk=attendee.pk).update(**values):
        raise NotFound()
    for name, value in values.items():
        setattr(attendee, name, value)


@transaction.atomic
def attendee_favorite_set(*, attendee: Attendee, favorite: bool) -> None:
    """Add the conversation to the caller's favorites or remove it."""
    _own_row_update(attendee, favorite=favorite)


@transaction.atomic
def attendee_notification_level_set(*, attendee: Attendee, level: int) -> None:
    """The caller's chat notification level (0 default, 1 always, 2 mentions, 3 never)."""
    if level not in NOTIFICATION_LEVELS:
        raise BadRequest("level")
    _own_row_update(attendee, notification_level=level)


@transaction.atomic
def attendee_notification_calls_set(*, attendee: Attendee, level: int) -> None:
    """Whether the caller is notified of calls (0 off, 1 on)."""
    if level not in NOTIFICATION_CALL_LEVELS:
        raise BadRequest("level")
    _own_row_update(attendee, notification_calls=level)


def moderator_relock(attendee: Attendee) -> Attendee:
    attendee = attendee_relock(attendee)  # a demotion racing the change is seen here
    if attendee.participant_type not in Attendee.MODERATOR_TYPES:
        raise Forbidden()
    return attendee


@transaction.atomic
def conversation_read_only_set(*, actor: User, attendee: Attendee, state: int) -> Conversation:
    """Lock (1) or unlock (0) the chat of a group or public conversation (400 ``type``,
    ``value``), posting ``read_only`` or ``read_only_off`` when the state changes."""
    attendee = moderator_relock(attendee)
    return _read_only_apply(actor=actor, room=attendee.room, state=state)


@transaction.atomic
def conversation_read_only_set_by_operator(*, actor: User, room: Conversation, state: int) -> Conversation:
    """``conversation_read_only_set`` by a site operator (the admin), who need not be an attendee."""
    return _read_only_apply(actor=actor, room=room_tree_lock(room), state=state)


def _read_only_apply(*, actor: User, room: Conversation, state: int) -> Conversation:
    if room.type not in READ_ONLY_TYPES:
        raise BadRequest("type")
    if state not in READ_ONLY_STATES:
        raise BadRequest("value")
    if room.read_only != state:
        Conversation.objects.filter(pk=room.pk).update(read_only=state)
        room.read_only = state
        system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=READ_ONLY_STATES[state])])
    return room


@transaction.atomic
def conversation_default_permissions_set(*, attendee: Attendee, mode: str, permissions: int) -> Conversation:
    """Set the conversation's default permissions (``mode`` must be ``default``: Talk 20 removed
    ``call``). Not 0: the custom bit (1) is added. Resets every attendee's own permissions, as
    Talk documents. 400 ``mode``, ``type`` (one-to-one, note to self), ``breakout-room``, ``value``."""
    if mode != "default":
        raise BadRequest("mode")
    attendee = moderator_relock(attendee)
    room = _default_permissions_apply(room=attendee.room, permissions=permissions)
    attendee.permissions = 0
    return room


@transaction.atomic
def conversation_default_permissions_set_by_operator(*, room: Conversation, permissions: int) -> Conversation:
    """``conversation_default_permissions_set`` by a site operator (the admin), who need not be
    an attendee."""
    return _default_permissions_apply(room=room_tree_lock(room), permissions=permissions)


def _default_permissions_apply(*, room: Conversation, permissions: int) -> Conversation:
    if room.type in NO_PERMISSION_TYPES:
        raise BadRequest("type")
    if room.parent_id is not None:
        raise BadRequest("breakout-room")
    if not 0 <= permissions <= PERMISSIONS_MAX:
        raise BadRequest("value")
    if permissions:
        permissions |= PERMISSION_CUSTOM
    Conversation.objects.filter(pk=room.pk).update(default_permissions=permissions)
    Attendee.objects.filter(room=room).exclude(permissions=0).update(permissions=0)
    room.default_permissions = permissions
    return room


@transaction.atomic
def attendee_permissions_set(*, attendee: Attendee, attendee_id: int, method: str, permissions: int) -> Attendee:
    """Set, add or remove permissions of one attendee (not a moderator: 403 ``moderator``).
    404 ``participant``; 400 ``method``, ``room-type``, ``type`` (not a person), ``value``.
    The result, when not 0, carries the custom bit."""
    attendee = moderator_relock(attendee)
    room = attendee.room
    target = Attendee.objects.select_for_update().filter(room=room, pk=attendee_id).first()
    if target is None:
        raise NotFound("participant")
    if method not in PERMISSION_METHODS:
        raise BadRequest("method")
    if room.type in NO_PERMISSION_TYPES:
        raise BadRequest("room-type")
    if target.is_moderator:
        raise Forbidden("moderator")
    if target.actor_type == Attendee.ACTOR_GROUPS:
        raise BadRequest("type")
    if not 0 <= permissions <= PERMISSIONS_MAX:
        raise BadRequest("value")
    current = effective_permissions(target, room)
    if method == "add":
        permissions = current | permissions
    elif method == "remove":
        permissions = current & ~permissions
    if permissions:
        permissions |= PERMISSION_CUSTOM
    target.permissions = permissions
    target.save(update_fields=["permissions"])
    return target
