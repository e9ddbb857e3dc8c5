"""The conversation endpoints of the Talk surface: the single conversation's Talk hash, favorites,
notification levels, read-only and permissions (Talk's docs/conversation.md and participant.md)."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.test import APIClient

from conversations.models import AppConfigValue, Conversation, User
from tests.conftest import V4

ClientFor = Callable[[User], APIClient]


def test_a_single_conversation_sends_the_talk_hash_of_the_room_list(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    client = client_for(student)

    single = client.get(f"{V4}/room/{room.token}")
    listed = client.get(f"{V4}/room")
    AppConfigValue.objects.update_or_create(key="breakout_rooms", defaults={"value": "no"})
    changed = client.get(f"{V4}/room/{room.token}")

    assert len(single["X-Nextcloud-Talk-Hash"]) == 40
    assert single["X-Nextcloud-Talk-Hash"] == listed["X-Nextcloud-Talk-Hash"]
    assert changed["X-Nextcloud-Talk-Hash"] != single["X-Nextcloud-Talk-Hash"]
