"""Helpers for the breakout tests: a class of students and readers of the resulting state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from breakout.serializers import attendee_map_decode
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation
from tests.factories import AttendeeFactory, UserFactory


def breakout_rooms(parent: Conversation) -> list[Conversation]:
    return list(Conversation.objects.filter(parent=parent).order_by("id"))


def members(room: Conversation) -> dict[str, int]:
    """actor id -> participant type of every attendee of ``room``."""
    return dict(Attendee.objects.filter(room=room).order_by("id").values_list("actor_id", "participant_type"))


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


@pytest.fixture
def started(room: Conversation, owner: User, configured: Callable[..., list]) -> Callable[..., list]:
    """``configured``, then started through the service; returns the breakout rooms."""

    def make(**options: Any) -> list[Conversation]:
        configured(**options)
        lifecycle.breakout_start(actor=owner, parent=room)
        return breakout_rooms(room)

    return make
