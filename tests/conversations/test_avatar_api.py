"""The conversation's emoji avatar (``/room/{token}/avatar/emoji``), its removal and the picture
itself (``GET /room/{token}/avatar`` and ``/avatar/dark``), as in Talk's docs/avatar.md."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, Conversation
from tests.conftest import OCS, ocs_data, ocs_error
from tests.factories import AttendeeFactory, ConversationFactory
from tests.helpers import system_messages

ClientFor = Callable[[User], APIClient]


def avatar_url(room: Conversation, suffix: str = "") -> str:
    return f"{OCS}/apps/spreed/api/v1/room/{room.token}/avatar{suffix}"


def test_moderators_set_an_emoji_avatar(client_for: ClientFor, room: Conversation, moderator: User) -> None:
    version = room.avatar_version

    response = client_for(moderator).post(avatar_url(room, "/emoji"), {"emoji": "🎓", "color": "FF00aa"}, format="json")

    assert response.status_code == 200
    data = ocs_data(response)
    assert data["isCustomAvatar"] is True
    assert data["avatarVersion"] != version
    stored = Conversation.objects.get(pk=room.pk)
    assert (stored.avatar_emoji, stored.avatar_color) == ("🎓", "ff00aa")
    assert system_messages(room) == ["avatar_set"]


def test_the_avatar_is_an_svg_with_the_emoji_and_its_colour(
    client_for: ClientFor, room: Conversation, owner: User, student: User
) -> None:
    client_for(owner).post(avatar_url(room, "/emoji"), {"emoji": "🎓", "color": "123456"}, format="json")

    light = client_for(student).get(avatar_url(room))
    dark = client_for(student).get(avatar_url(room, "/dark"))

    assert light.status_code == 200
    assert light["Content-Type"] == "image/svg+xml"
    assert light.content.startswith(b"<svg")
    assert "🎓" in light.content.decode() and "#123456" in light.content.decode()
    assert dark.status_code == 200


def test_without_a_custom_avatar_the_picture_is_the_first_letter(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    body = client_for(student).get(avatar_url(room)).content.decode()

    assert ">C</text>" in body


def test_removing_the_avatar_answers_the_conversation(client_for: ClientFor, room: Conversation, owner: User) -> None:
    client = client_for(owner)
    client.post(avatar_url(room, "/emoji"), {"emoji": "🎓"}, format="json")

    response = client.delete(avatar_url(room))

    assert (response.status_code, ocs_data(response)["isCustomAvatar"]) == (200, False)
    assert Conversation.objects.get(pk=room.pk).avatar_emoji == ""
    assert system_messages(room) == ["avatar_set", "avatar_removed"]


@pytest.mark.parametrize(
    ("body", "key"), [({"emoji": "ab"}, "emoji"), ({}, "emoji"), ({"emoji": "🎓", "color": "red"}, "color")]
)
def test_bad_emoji_avatars_are_400(
    client_for: ClientFor, room: Conversation, owner: User, body: dict, key: str
) -> None:
    response = client_for(owner).post(avatar_url(room, "/emoji"), body, format="json")

    assert (response.status_code, ocs_error(response)) == (400, key)
    assert Conversation.objects.get(pk=room.pk).avatar_emoji == ""


def test_one_to_one_conversations_keep_the_other_persons_picture(client_for: ClientFor, owner: User) -> None:
    one_to_one = ConversationFactory(type=Conversation.Type.ONE_TO_ONE, name="owner,student")
    AttendeeFactory(room=one_to_one, user=owner, participant_type=Attendee.ParticipantType.OWNER)

    response = client_for(owner).post(avatar_url(one_to_one, "/emoji"), {"emoji": "🎓"}, format="json")

    assert (response.status_code, ocs_error(response)) == (400, "type")


def test_students_cannot_change_the_avatar_and_outsiders_cannot_see_it(
    client_for: ClientFor, anonymous_client: APIClient, room: Conversation, student: User, outsider: User
) -> None:
    assert client_for(student).post(avatar_url(room, "/emoji"), {"emoji": "🎓"}, format="json").status_code == 403
    assert client_for(student).delete(avatar_url(room)).status_code == 403
    assert client_for(outsider).get(avatar_url(room)).status_code == 404
    assert client_for(outsider).post(avatar_url(room, "/emoji"), {"emoji": "🎓"}, format="json").status_code == 404
    assert anonymous_client.get(avatar_url(room)).status_code == 401
