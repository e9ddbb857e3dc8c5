"""Helpers of the conversation endpoint tests: breakout trees built directly in the database (so
these tests do not depend on the breakout lifecycle code) and readers of the resulting state."""

from __future__ import annotations

from accounts.models import User
from conversations.models import Attendee, Conversation


def breakout_rooms_build(parent: Conversation, *, count: int, started: bool = False) -> list[Conversation]:
    """``count`` breakout rooms of ``parent`` (manual mode) holding every parent moderator with their
    parent type; the lobby is on exactly when the parent is stopped."""
    parent.breakout_room_mode = Conversation.BreakoutMode.MANUAL
    parent.breakout_room_status = Conversation.BreakoutStatus.STARTED if started else 0
    parent.save(update_fields=["breakout_room_mode", "breakout_room_status"])
    rooms = Conversation.objects.bulk_create(
        Conversation(
            type=parent.type,
            name=f"Room {index}",
            parent=parent,
            lobby_state=Conversation.Lobby.NONE if started else Conversation.Lobby.NON_MODERATORS,
        )
        for index in range(1, count + 1)
    )
    moderators = list(Attendee.objects.filter(room=parent, participant_type__in=Attendee.MODERATOR_TYPES))
    Attendee.objects.bulk_create(
        Attendee(
            room=room,
            actor_type=moderator.actor_type,
            actor_id=moderator.actor_id,
            user_id=moderator.user_id,
            display_name=moderator.display_name,
            participant_type=moderator.participant_type,
            breakout_parent=parent,
        )
        for room in rooms
        for moderator in moderators
    )
    return rooms


def attendee_of(room: Conversation, user: User) -> Attendee:
    return Attendee.objects.get(room=room, user=user)


def types_by_room(user: User, parent: Conversation) -> dict[str, int]:
    """The user's participant type in the parent and in each of its breakout rooms, by room name."""
    rows = Attendee.objects.filter(user=user).filter(room__in=[parent, *parent.breakout_rooms.all()])
    return {row.room.name: row.participant_type for row in rows.select_related("room")}


def room_of(token: str) -> Conversation:
    return Conversation.objects.get(token=token)
