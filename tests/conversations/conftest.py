"""Fixtures of the conversation endpoint tests."""

from __future__ import annotations

import pytest

from accounts.models import User
from conversations.models import Attendee, Conversation
from tests.conversations.helpers import breakout_rooms_build
from tests.factories import AttendeeFactory


@pytest.fixture
def breakout_rooms(room: Conversation, student: User) -> list[Conversation]:
    """Two stopped breakout rooms of ``room``; the student sits in the first one."""
    rooms = breakout_rooms_build(room, count=2)
    AttendeeFactory(room=rooms[0], user=student, participant_type=Attendee.ParticipantType.USER)
    return rooms
