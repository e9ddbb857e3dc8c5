"""The lobby of a conversation: set by moderators, opened by its timer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from conversations.hooks import RoomSetting, tree_rules
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.services.primitives import (
    SystemMessage,
    chat_events_add,
    datetime_from_timestamp,
    system_messages_post,
)
from conversations.services.room_settings import room_settings_lock
from project.errors import BadRequest


@transaction.atomic
def conversation_lobby_set(
    *, actor: User, room: Conversation, state: int, timer: int | None = None, by_operator: bool = False
) -> Conversation:
    """Turn the lobby on (1) or off (0). A breakout room's lobby is driven by start/stop only, so
    that it stays on exactly when its parent is stopped: 400 ``breakout-room``. ``by_operator``:
    as for ``room_settings.conversation_rename``."""
    room = room_settings_lock(actor=actor, room=room, by_operator=by_operator)
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    tree_rules().setting_change_check(room=room, setting=RoomSetting.LOBBY, enable=bool(state))
    if state not in (Conversation.Lobby.NONE, Conversation.Lobby.NON_MODERATORS):
        raise BadRequest("state")
    lobby_timer = datetime_from_timestamp(timer, error="timer") if timer and state else None
    changed = room.lobby_state != state
    room.lobby_state = state
    room.lobby_timer = lobby_timer
    room.save(update_fields=["lobby_state", "lobby_timer"])
    if changed:
        key = "lobby_non_moderators" if state else "lobby_none"
        system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=key)], rooms=[room])
    return room


def lobby_timer_due(room: Conversation, *, now: datetime | None = None) -> bool:
    """Whether the lobby of ``room`` is on with a timer that has passed (a breakout room's lobby
    follows its parent, never a timer)."""
    return (
        room.parent_id is None
        and room.lobby_state == Conversation.Lobby.NON_MODERATORS
        and room.lobby_timer is not None
        and room.lobby_timer <= (now or timezone.now())
    )


@transaction.atomic
def conversation_lobby_timers_expire(*, room_ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Open every given lobby whose timer has passed, as Talk does when it loads such a room, and
    post ``lobby_timer_reached`` there (actor: the system). The rows are locked and re-checked,
    in id order, so concurrent requests open each lobby exactly once. Returns the opened ids."""
    now = now or timezone.now()
    due = Conversation.objects.filter(
        pk__in=list(room_ids),
        parent__isnull=True,
        lobby_state=Conversation.Lobby.NON_MODERATORS,
        lobby_timer__lte=now,
    )
    opened = list(due.select_for_update().order_by("pk").values_list("pk", flat=True))
    if not opened:
        return []
    Conversation.objects.filter(pk__in=opened).update(
        lobby_state=Conversation.Lobby.NONE, lobby_timer=None, last_activity=now
    )
    created = ChatMessage.objects.bulk_create(
        ChatMessage(
            room_id=room_id,
            actor_type=Attendee.ACTOR_GUESTS,
            actor_id="system",
            message_type=ChatMessage.Type.SYSTEM,
            system_message="lobby_timer_reached",
            created_at=now,
        )
        for room_id in opened
    )
    chat_events_add(messages=created, actor_id="system")
    return opened


def conversation_lobby_open_if_timer_passed(*, room: Conversation) -> Conversation:
    """Talk opens a lobby whose timer has passed when a room is loaded: open ``room``'s lobby
    (posting ``lobby_timer_reached``) if so, and return the room as it now is. No query when the
    lobby has no passed timer, which is nearly always."""
    if lobby_timer_due(room) and conversation_lobby_timers_expire(room_ids=[room.pk]):
        room.lobby_state, room.lobby_timer = Conversation.Lobby.NONE, None
    return room
