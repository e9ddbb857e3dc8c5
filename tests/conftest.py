"""Shared fixtures: a fixed cast (owner, moderator, student, outsider) and OCS-aware clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, Conversation
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory

# Re-exported until tests/breakout imports them from tests.helpers (their home).
from tests.helpers import OCS, V1, V4, ocs_data, ocs_error, requires_postgres  # noqa: F401


@pytest.fixture(autouse=True)
def _no_bruteforce_by_default(settings: Any) -> None:
    # Most tests provoke many 404s from one address; the protection has tests of its own.
    settings.BRUTEFORCE_PROTECTION = False


@pytest.fixture
def owner(db: None) -> User:
    return UserFactory(username="owner", display_name="Owner Person")


@pytest.fixture
def moderator(db: None) -> User:
    return UserFactory(username="moderator", display_name="Moderator Person")


@pytest.fixture
def student(db: None) -> User:
    return UserFactory(username="student", display_name="Student Person")


@pytest.fixture
def outsider(db: None) -> User:
    return UserFactory(username="outsider", display_name="Outsider Person")


@pytest.fixture
def operator(db: None) -> User:
    """A staff superuser, for the admin and the operator tools."""
    return UserFactory(username="operator", is_staff=True, is_superuser=True)


@pytest.fixture
def operator_client(operator: User) -> Client:
    """A Django test client logged in (session) as ``operator``."""
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def room(owner: User, moderator: User, student: User) -> Conversation:
    """A group conversation: owner (1), moderator (2) and student (3)."""
    conversation = ConversationFactory(name="Class")
    AttendeeFactory(room=conversation, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    AttendeeFactory(room=conversation, user=moderator, participant_type=Attendee.ParticipantType.MODERATOR)
    AttendeeFactory(room=conversation, user=student, participant_type=Attendee.ParticipantType.USER)
    return conversation


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient(HTTP_OCS_APIREQUEST="true", HTTP_ACCEPT="application/json")


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """An API client authenticated as ``user`` (authentication itself is tested separately)."""

    def make(user: User) -> APIClient:
        client = APIClient(HTTP_OCS_APIREQUEST="true", HTTP_ACCEPT="application/json")
        client.force_authenticate(user)
        return client

    return make
