"""Fixtures for the operator tools: configured breakout trees (the operator and their client: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from breakout.services.lifecycle import breakout_configure
from conversations.models import Attendee, Conversation
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory

ParentMaker = Callable[..., Conversation]


@pytest.fixture
def make_parent(db: None) -> ParentMaker:
    """A parent conversation with an owner and ``students`` students, configured (through the
    service) with ``rooms`` breakout rooms in ``mode`` (students spread automatically)."""
    counter = iter(range(10_000))

    def make(*, students: int = 2, rooms: int = 2, mode: int = Conversation.BreakoutMode.AUTOMATIC) -> Conversation:
        number = next(counter)
        parent = ConversationFactory(name=f"Class {number}")
        teacher = UserFactory(username=f"teacher{number}")
        AttendeeFactory(room=parent, user=teacher, participant_type=Attendee.ParticipantType.OWNER)
        for index in range(students):
            AttendeeFactory(room=parent, user=UserFactory(username=f"pupil{number}-{index}"))
        breakout_configure(actor=teacher, parent=parent, mode=mode, amount=rooms, attendee_map={})
        parent.refresh_from_db()
        return parent

    return make
