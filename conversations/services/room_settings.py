"""Settings of one conversation: name, description, listable scope, public/private, password, message expiration."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import User
from conversations.hooks import RoomSetting, tree_rules
from conversations.models import Conversation
from conversations.services.lifecycle import room_name_clean
from conversations.services.primitives import SystemMessage, moderator_recheck, room_tree_lock, system_messages_post
from project.errors import BadRequest

DESCRIPTION_MAX_LENGTH = 2000
# The column is a positive 32-bit integer on every database.
MESSAGE_EXPIRATION_MAX_SECONDS = 2**31 - 1
LISTABLE_MESSAGES = {0: "listable_none", 1: "listable_users", 2: "listable_all"}


def room_settings_lock(*, actor: User, room: Conversation, by_operator: bool) -> Conversation:
    """The tree lock and, unless ``by_operator`` (a site operator in the admin, authorised by its
    permissions, who need not be an attendee), the caller's moderator role read again under it:
    checks read the room and the role under the lock, since a concurrent writer of the tree (a
    demotion, a switch to public...) may have changed them. Returns the room read under the lock."""
    room = room_tree_lock(room)
    if not by_operator:
        moderator_recheck(room=room, actor=actor)
    return room


def _setting_change(*, actor: User, room: Conversation, field: str, value: object, message: SystemMessage) -> None:
    """Store the new ``value`` of ``room``'s ``field`` and post ``message`` announcing it."""
    setattr(room, field, value)
    room.save(update_fields=[field])
    system_messages_post(actor=actor, messages=[message])


@transaction.atomic
def conversation_rename(*, actor: User, room: Conversation, name: str, by_operator: bool = False) -> Conversation:
    """Rename a conversation (not a one-to-one: its name is the pair of user ids) and post
    ``conversation_renamed``. ``by_operator``: a site operator (the admin) who need not be a
    moderator of the room."""
    room = room_settings_lock(actor=actor, room=room, by_operator=by_operator)
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    name = room_name_clean(name)
    if name != room.name and room.parent is not None:
        tree_rules().child_name_check(parent=room.parent, name=name, room=room)
    if name != room.name:
        text = {"oldName": room.name, "newName": name}
        message = SystemMessage(room_id=room.pk, key="conversation_renamed", text=text)
        _setting_change(actor=actor, room=room, field="name", value=name, message=message)
    return room


@transaction.atomic
def conversation_description_set(
    *, actor: User, room: Conversation, description: str, by_operator: bool = False
) -> Conversation:
    """Set (or, with "", remove) the description: at most 2000 characters. ``by_operator``: as for
    ``conversation_rename``."""
    room = room_settings_lock(actor=actor, room=room, by_operator=by_operator)
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise BadRequest("description")
    if description != room.description:
        message = SystemMessage(room_id=room.pk, key="description_set" if description else "description_removed")
        _setting_change(actor=actor, room=room, field="description", value=description, message=message)
    return room


@transaction.atomic
def conversation_listable_set(
    *, actor: User, room: Conversation, scope: int, by_operator: bool = False
) -> Conversation:
    """Who may find the conversation: 0 participants only, 1 users, 2 everyone. Breakout rooms stay
    0 (400 ``breakout-room`` when the value would change). ``by_operator``: as for
    ``conversation_rename``."""
    room = room_settings_lock(actor=actor, room=room, by_operator=by_operator)
    if scope not in LISTABLE_MESSAGES:
        raise BadRequest("scope")
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    if room.listable == scope:
        return room
    tree_rules().setting_change_check(room=room, setting=RoomSetting.LISTABLE)
    message = SystemMessage(room_id=room.pk, key=LISTABLE_MESSAGES[scope])
    _setting_change(actor=actor, room=room, field="listable", value=scope, message=message)
    return room


@transaction.atomic
def conversation_public_set(*, actor: User, room: Conversation, public: bool) -> Conversation:
    """Make a group conversation public (type 3) or a public one private (type 2). Breakout rooms
    and configured parents cannot become public (400 ``breakout-room``): a parent must stay a
    group conversation. Under the tree lock, so a concurrent configure sees the final type."""
    room = room_settings_lock(actor=actor, room=room, by_operator=False)
    if room.type not in (Conversation.Type.GROUP, Conversation.Type.PUBLIC):
        raise BadRequest("type")
    new_type = Conversation.Type.PUBLIC if public else Conversation.Type.GROUP
    if room.type == new_type:
        return room
    tree_rules().setting_change_check(room=room, setting=RoomSetting.PUBLIC, enable=public)
    message = SystemMessage(room_id=room.pk, key="guests_allowed" if public else "guests_disallowed")
    _setting_change(actor=actor, room=room, field="type", value=new_type, message=message)
    return room


@transaction.atomic
def conversation_password_set(*, actor: User, room: Conversation, password: str) -> Conversation:
    """Set (or, with "", remove) the password of a public conversation. Breakout rooms and every
    other non-public conversation: 400 ``type`` (decision 5)."""
    room = room_settings_lock(actor=actor, room=room, by_operator=False)
    tree_rules().setting_change_check(room=room, setting=RoomSetting.PASSWORD)
    if room.type != Conversation.Type.PUBLIC:
        raise BadRequest("type")
    had_password = bool(room.password)
    room.password = make_password(password) if password else ""
    room.save(update_fields=["password"])
    if password or had_password:
        key = "password_set" if password else "password_removed"
        system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=key)])
    return room


@transaction.atomic
def conversation_message_expiration_set(
    *, actor: User, room: Conversation, seconds: int, by_operator: bool = False
) -> Conversation:
    """Let new chat messages expire after ``seconds`` (0 = never). Not on breakout rooms.
    ``by_operator``: as for ``conversation_rename``."""
    room = room_settings_lock(actor=actor, room=room, by_operator=by_operator)
    tree_rules().setting_change_check(room=room, setting=RoomSetting.MESSAGE_EXPIRATION)
    if not 0 <= seconds <= MESSAGE_EXPIRATION_MAX_SECONDS:
        raise BadRequest("seconds")
    if room.message_expiration != seconds:
        if seconds:
            message = SystemMessage(room_id=room.pk, key="message_expiration_enabled", text={"seconds": seconds})
        else:
            message = SystemMessage(room_id=room.pk, key="message_expiration_disabled")
        _setting_change(actor=actor, room=room, field="message_expiration", value=seconds, message=message)
    return room
