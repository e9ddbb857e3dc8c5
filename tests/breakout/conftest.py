"""Helpers for the breakout tests: a class of students and readers of the resulting state."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from breakout.serializers import attendee_map_decode
from breakout.services import lifecycle
from conversations.models import Attendee, ChatMessage, Conversation
from tests.factories import AttendeeFactory, UserFactory


def breakout_rooms(parent: Conversation) -> list[Conversation]:
    return list(Conversation.objects.filter(parent=parent).order_by("id"))


def members(room: Conversation) -> dict[str, int]:
    """actor id -> participant type of every attendee of ``room``."""
    return dict(Attendee.objects.filter(room=room).order_by("id").values_list("actor_id", "participant_type"))


def system_messages(room: Conversation) -> list[str]:
    return list(
        ChatMessage.objects.filter(room=room, message_type=ChatMessage.Type.SYSTEM)
        .order_by("id")
        .values_list("system_message", flat=True)
    )


def parent_attendee(parent: Conversation, user: User) -> Attendee:
    return Attendee.objects.get(room=parent, user=user)


def add_students(parent: Conversation, count: int, *, prefix: str = "pupil") -> list[User]:
    users = [UserFactory(username=f"{prefix}{index}") for index in range(count)]
    for user in users:
        AttendeeFactory(room=parent, user=user, participant_type=Attendee.ParticipantType.USER)
    return users


@pytest.fixture
def configured(room: Conversation, owner: User) -> Callable[..., list[Conversation]]:
    """Configure ``room`` through the service; returns its breakout rooms by ascending id."""

    def make(mode: int = 1, amount: int = 2, attendee_map: str = "[]", parent: Conversation | None = None) -> list:
        target = parent or room
        lifecycle.breakout_configure(
            actor=owner, parent=target, mode=mode, amount=amount, attendee_map=attendee_map_decode(attendee_map)
        )
        return breakout_rooms(target)

    return make
