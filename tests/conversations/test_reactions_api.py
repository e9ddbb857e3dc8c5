"""Reactions v1 (``/reaction/{token}/{messageId}``) and the ``reactions``/``reactionsSelf`` keys of
chat messages, as in Talk's docs/reaction.md and chat.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation, Reaction
from tests.conftest import V1, V4, ocs_data
from tests.conversations.helpers import breakout_rooms_build
from tests.factories import AttendeeFactory, ChatMessageFactory, UserFactory

ClientFor = Callable[[User], APIClient]
THUMBS = "👍"
HEART = "❤️"


def reaction_url(room: Conversation, message: ChatMessage | int) -> str:
    message_id = message if isinstance(message, int) else message.pk
    return f"{V1}/reaction/{room.token}/{message_id}"


@pytest.fixture
def comment(room: Conversation) -> ChatMessage:
    return ChatMessageFactory(room=room, actor_id="owner", actor_display_name="Owner Person")


def test_reacting_answers_201_with_the_reactions_of_the_message(
    client_for: ClientFor, room: Conversation, student: User, comment: ChatMessage
) -> None:
    response = client_for(student).post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")

    assert response.status_code == 201
    data = ocs_data(response)
    assert list(data) == [THUMBS]
    assert [(r["actorType"], r["actorId"], r["actorDisplayName"]) for r in data[THUMBS]] == [
        ("users", "student", "Student Person")
    ]
    assert isinstance(data[THUMBS][0]["timestamp"], int)
    assert list(Reaction.objects.values_list("message_id", "actor_id", "reaction")) == [(comment.pk, "student", THUMBS)]
    comment.refresh_from_db()
    assert comment.reactions == {THUMBS: 1}


def test_reacting_twice_with_the_same_emoji_answers_200_and_stores_one_reaction(
    client_for: ClientFor, room: Conversation, student: User, comment: ChatMessage
) -> None:
    client = client_for(student)
    client.post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")

    response = client.post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")

    assert response.status_code == 200
    assert len(ocs_data(response)[THUMBS]) == 1
    assert Reaction.objects.count() == 1


@pytest.mark.parametrize("reaction", ["", "a", "👍 x", "12", "!", "👍" * 33])
def test_a_reaction_that_is_not_one_emoji_is_400_without_error_key(
    client_for: ClientFor, room: Conversation, student: User, comment: ChatMessage, reaction: str
) -> None:
    response = client_for(student).post(reaction_url(room, comment), {"reaction": reaction}, format="json")

    assert response.status_code == 400
    assert ocs_data(response) == []
    assert not Reaction.objects.exists()


def test_a_missing_reaction_is_400(
    client_for: ClientFor, room: Conversation, student: User, comment: ChatMessage
) -> None:
    response = client_for(student).post(reaction_url(room, comment), {}, format="json")

    assert response.status_code == 400


@pytest.mark.parametrize("reaction", ["👍🏽", "👨‍👩‍👧", "🇩🇪", HEART])
def test_composed_emoji_are_reactions(
    client_for: ClientFor, room: Conversation, student: User, comment: ChatMessage, reaction: str
) -> None:
    response = client_for(student).post(reaction_url(room, comment), {"reaction": reaction}, format="json")

    assert response.status_code == 201


def test_system_messages_take_no_reactions(client_for: ClientFor, room: Conversation, student: User) -> None:
    system = ChatMessageFactory(room=room, message_type=ChatMessage.Type.SYSTEM, system_message="user_added")

    client = client_for(student)
    response = client.post(reaction_url(room, system), {"reaction": THUMBS}, format="json")

    assert response.status_code == 400
    assert not Reaction.objects.exists()
    assert client.get(reaction_url(room, system)).status_code == 404
    assert client.delete(f"{reaction_url(room, system)}?reaction={THUMBS}").status_code == 404


@pytest.mark.parametrize("message_id", [0, 999999, 2**63, 10**30])
def test_unknown_messages_are_404(client_for: ClientFor, room: Conversation, student: User, message_id: int) -> None:
    client = client_for(student)

    assert client.post(reaction_url(room, message_id), {"reaction": THUMBS}, format="json").status_code == 404
    assert client.get(reaction_url(room, message_id)).status_code == 404
    assert client.delete(f"{reaction_url(room, message_id)}?reaction={THUMBS}").status_code == 404


def test_a_message_of_another_room_is_404(client_for: ClientFor, room: Conversation, student: User) -> None:
    elsewhere = ChatMessageFactory()

    response = client_for(student).post(reaction_url(room, elsewhere), {"reaction": THUMBS}, format="json")

    assert response.status_code == 404


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_outsiders_get_404_and_anonymous_callers_401(
    client_for: ClientFor,
    anonymous_client: APIClient,
    room: Conversation,
    outsider: User,
    comment: ChatMessage,
    method: str,
) -> None:
    url = f"{reaction_url(room, comment)}?reaction={THUMBS}"

    assert getattr(client_for(outsider), method)(url).status_code == 404
    assert getattr(anonymous_client, method)(url).status_code == 401


def test_read_only_conversations_and_missing_chat_permission_are_403(
    client_for: ClientFor, room: Conversation, student: User, comment: ChatMessage
) -> None:
    client = client_for(student)
    Conversation.objects.filter(pk=room.pk).update(read_only=1)
    read_only = client.post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")
    Conversation.objects.filter(pk=room.pk).update(read_only=0)
    Attendee.objects.filter(room=room, user=student).update(permissions=1)  # custom: nothing allowed
    no_chat = client.post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")

    assert (read_only.status_code, no_chat.status_code) == (403, 403)
    assert not Reaction.objects.exists()


def test_a_breakout_room_follows_its_lobby(client_for: ClientFor, room: Conversation, student: User) -> None:
    breakout = breakout_rooms_build(room, count=1)[0]  # stopped: the lobby is on
    AttendeeFactory(room=breakout, user=student)
    message = ChatMessageFactory(room=breakout, actor_id="owner")

    response = client_for(student).post(reaction_url(breakout, message), {"reaction": THUMBS}, format="json")

    assert response.status_code == 412


def test_removing_a_reaction_answers_200_with_the_rest(
    client_for: ClientFor, room: Conversation, student: User, owner: User, comment: ChatMessage
) -> None:
    client_for(owner).post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")
    client_for(student).post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")

    response = client_for(student).delete(f"{reaction_url(room, comment)}?reaction={THUMBS}")

    assert response.status_code == 200
    assert [r["actorId"] for r in ocs_data(response)[THUMBS]] == ["owner"]
    comment.refresh_from_db()
    assert comment.reactions == {THUMBS: 1}


def test_removing_the_last_reaction_answers_an_empty_object_and_a_missing_one_404(
    client_for: ClientFor, room: Conversation, student: User, comment: ChatMessage
) -> None:
    client = client_for(student)
    client.post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")

    removed = client.delete(f"{reaction_url(room, comment)}?reaction={THUMBS}")
    again = client.delete(f"{reaction_url(room, comment)}?reaction={THUMBS}")

    assert (removed.status_code, ocs_data(removed)) == (200, {})
    assert again.status_code == 404
    comment.refresh_from_db()
    assert comment.reactions == {}


def test_listing_reactions_filters_by_emoji(
    client_for: ClientFor, room: Conversation, student: User, owner: User, comment: ChatMessage
) -> None:
    client_for(owner).post(reaction_url(room, comment), {"reaction": HEART}, format="json")
    client_for(student).post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")

    everything = ocs_data(client_for(student).get(reaction_url(room, comment)))
    hearts = ocs_data(client_for(student).get(reaction_url(room, comment), {"reaction": HEART}))

    assert set(everything) == {HEART, THUMBS}
    assert list(hearts) == [HEART]


def test_chat_messages_carry_reactions_and_the_callers_own(
    client_for: ClientFor, room: Conversation, student: User, owner: User, comment: ChatMessage
) -> None:
    client_for(owner).post(reaction_url(room, comment), {"reaction": HEART}, format="json")
    client_for(student).post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")
    client_for(owner).post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")
    plain = ChatMessageFactory(room=room, actor_id="owner")

    page = {m["id"]: m for m in ocs_data(client_for(student).get(f"{V1}/chat/{room.token}"))}

    assert page[comment.pk]["reactions"] == {HEART: 1, THUMBS: 2}
    assert page[comment.pk]["reactionsSelf"] == [THUMBS]
    assert page[plain.pk]["reactions"] == []
    assert "reactionsSelf" not in page[plain.pk]


def test_a_reply_carries_the_reactions_of_its_parent(
    client_for: ClientFor, room: Conversation, student: User, comment: ChatMessage
) -> None:
    client = client_for(student)
    client.post(reaction_url(room, comment), {"reaction": THUMBS}, format="json")
    client.post(f"{V1}/chat/{room.token}", {"message": "yes", "replyTo": comment.pk}, format="json")

    newest = ocs_data(client.get(f"{V1}/chat/{room.token}", {"limit": 1}))[0]

    assert newest["parent"]["reactions"] == {THUMBS: 1}
    assert newest["parent"]["reactionsSelf"] == [THUMBS]


@pytest.mark.parametrize("count", [3, 30])
def test_a_chat_page_with_reactions_takes_a_constant_number_of_queries(
    client_for: ClientFor, room: Conversation, student: User, count: int, django_assert_num_queries: Any
) -> None:
    messages = ChatMessage.objects.bulk_create(
        ChatMessage(room=room, actor_id="owner", message=str(i), reactions={THUMBS: count}) for i in range(count)
    )
    reactors = [UserFactory(username=f"reactor{i}") for i in range(count)]
    Reaction.objects.bulk_create(
        Reaction(message=message, actor_id=user.username, reaction=THUMBS) for message in messages for user in reactors
    )
    Reaction.objects.bulk_create(Reaction(message=message, actor_id="student", reaction=HEART) for message in messages)
    client = client_for(student)

    # 1 the caller's attendee row with room and parent; 2 the page of messages with their parents;
    # 3 the caller's own reactions to the messages of the page that have reactions.
    with django_assert_num_queries(3):
        response = client.get(f"{V1}/chat/{room.token}")

    assert all(m["reactionsSelf"] == [HEART] for m in ocs_data(response))


@pytest.mark.parametrize("count", [3, 30])
def test_listing_the_reactions_of_a_message_takes_a_constant_number_of_queries(
    client_for: ClientFor,
    room: Conversation,
    student: User,
    comment: ChatMessage,
    count: int,
    django_assert_num_queries: Any,
) -> None:
    Reaction.objects.bulk_create(Reaction(message=comment, actor_id=f"user{i}", reaction=THUMBS) for i in range(count))
    client = client_for(student)

    # 1 the caller's attendee row; 2 the message; 3 its reactions.
    with django_assert_num_queries(3):
        response = client.get(reaction_url(room, comment))

    assert len(ocs_data(response)[THUMBS]) == count


def test_the_hidden_reaction_messages_are_not_unread_messages_as_in_talk(
    client_for: ClientFor, room: Conversation, owner: User, student: User, moderator: User
) -> None:
    # Talk's ChatManager::getUnreadCount counts the verbs "comment" and "object_shared" only;
    # reactions are stored with the verbs "reaction" / "reaction_deleted" and their revocations as
    # system messages, so none of them makes a conversation unread.
    posted = client_for(student).post(f"{V1}/chat/{room.token}", {"message": "hello"}, format="json")
    message_id = ocs_data(posted)["id"]

    def unread() -> int:
        return int(ocs_data(client_for(owner).get(f"{V4}/room/{room.token}"))["unreadMessages"])

    before = unread()
    for reacting in (student, moderator):
        client_for(reacting).post(reaction_url(room, message_id), {"reaction": THUMBS}, format="json")
    client_for(moderator).delete(reaction_url(room, message_id), {"reaction": THUMBS}, format="json")

    hidden = ChatMessage.objects.filter(room=room, pk__gt=message_id).values_list("system_message", flat=True)
    assert sorted(hidden) == ["reaction", "reaction_deleted", "reaction_revoked"]
    assert before == 1
    assert unread() == before
