"""Read markers (``POST``/``DELETE /chat/{token}/read``), the ``lastReadMessage``,
``unreadMessages`` and ``unreadMention`` keys of the conversation, and mention suggestions
(``GET /chat/{token}/mentions``), as in Talk's docs/chat.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation
from tests.conftest import V1, V4, ocs_data, ocs_error
from tests.conversations.helpers import attendee_of
from tests.factories import AttendeeFactory, ChatMessageFactory, ConversationFactory, UserFactory

ClientFor = Callable[[User], APIClient]


def read_url(room: Conversation) -> str:
    return f"{V1}/chat/{room.token}/read"


def comments(room: Conversation, count: int, author: str = "owner") -> list[ChatMessage]:
    return [ChatMessageFactory(room=room, actor_id=author) for _ in range(count)]


def test_setting_the_read_marker_answers_the_conversation(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    first, second, third = comments(room, 3)

    response = client_for(student).post(read_url(room), {"lastReadMessage": first.pk}, format="json")

    assert response.status_code == 200
    data = ocs_data(response)
    assert (data["token"], data["lastReadMessage"], data["unreadMessages"]) == (room.token, first.pk, 2)
    assert attendee_of(room, student).last_read_message == first.pk


def test_without_a_message_the_marker_moves_to_the_newest_message(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    *_, newest = comments(room, 3)

    data = ocs_data(client_for(student).post(read_url(room)))

    assert (data["lastReadMessage"], data["unreadMessages"]) == (newest.pk, 0)


def test_the_marker_may_move_backwards_and_zero_means_nothing_read(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    messages = comments(room, 3)
    client = client_for(student)
    client.post(read_url(room))

    data = ocs_data(client.post(read_url(room), {"lastReadMessage": 0}, format="json"))

    assert (data["lastReadMessage"], data["unreadMessages"]) == (-2, len(messages))


@pytest.mark.parametrize("value", ["x", -3, 1.5, True])
def test_a_bad_marker_is_400(client_for: ClientFor, room: Conversation, student: User, value: Any) -> None:
    response = client_for(student).post(read_url(room), {"lastReadMessage": value}, format="json")

    assert (response.status_code, ocs_error(response)) == (400, "lastReadMessage")


@pytest.mark.parametrize("method", ["post", "delete"])
def test_read_markers_answer_outsiders_404_and_anonymous_callers_401(
    client_for: ClientFor, anonymous_client: APIClient, room: Conversation, outsider: User, method: str
) -> None:
    assert getattr(client_for(outsider), method)(read_url(room)).status_code == 404
    assert getattr(anonymous_client, method)(read_url(room)).status_code == 401


def test_marking_unread_makes_the_newest_comment_unread(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    first, second = comments(room, 2)
    ChatMessageFactory(room=room, message_type=ChatMessage.Type.SYSTEM, system_message="user_added")
    client = client_for(student)
    client.post(read_url(room))

    response = client.delete(read_url(room))

    assert response.status_code == 200
    data = ocs_data(response)
    assert (data["lastReadMessage"], data["unreadMessages"]) == (first.pk, 1)


def test_marking_unread_with_a_single_message_reads_nothing(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    comments(room, 1)

    data = ocs_data(client_for(student).delete(read_url(room)))

    assert (data["lastReadMessage"], data["unreadMessages"]) == (-2, 1)


def test_a_mention_sets_unread_mention_until_read(
    client_for: ClientFor, room: Conversation, student: User, owner: User, moderator: User
) -> None:
    client_for(owner).post(f"{V1}/chat/{room.token}", {"message": "@student look"}, format="json")

    student_view = ocs_data(client_for(student).get(f"{V4}/room/{room.token}"))
    moderator_view = ocs_data(client_for(moderator).get(f"{V4}/room/{room.token}"))
    client_for(student).post(read_url(room))
    after_reading = ocs_data(client_for(student).get(f"{V4}/room/{room.token}"))

    assert (student_view["unreadMention"], student_view["unreadMentionDirect"]) == (True, True)
    assert moderator_view["unreadMention"] is False
    assert after_reading["unreadMention"] is False


def test_mentioning_all_is_an_indirect_mention_of_everyone_else(
    client_for: ClientFor, room: Conversation, student: User, owner: User
) -> None:
    client_for(owner).post(f"{V1}/chat/{room.token}", {"message": "hello @all"}, format="json")

    student_view = ocs_data(client_for(student).get(f"{V4}/room/{room.token}"))
    owner_view = ocs_data(client_for(owner).get(f"{V4}/room/{room.token}"))

    assert (student_view["unreadMention"], student_view["unreadMentionDirect"]) == (True, False)
    assert owner_view["unreadMention"] is False


@pytest.mark.parametrize("count", [3, 30])
def test_the_conversation_list_with_unread_counts_and_mentions_takes_a_constant_number_of_queries(
    client_for: ClientFor, student: User, owner: User, count: int, django_assert_num_queries: Any
) -> None:
    for _ in range(count):
        room = ConversationFactory()
        AttendeeFactory(room=room, user=student, last_mention_message=10**6)
        comments(room, 2)
    client = client_for(student)

    # 1 the attendee rows with rooms, their last messages and the per-caller values (unread
    # counts included); 2 the app config value of the Talk hash.
    with django_assert_num_queries(2):
        response = client.get(f"{V4}/room")

    assert all(room["unreadMessages"] == 2 and room["unreadMention"] for room in ocs_data(response))


# --- mentions -----------------------------------------------------------------------------------


def mentions_url(room: Conversation) -> str:
    return f"{V1}/chat/{room.token}/mentions"


def test_mention_suggestions_list_matching_participants_and_all(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    response = client_for(student).get(mentions_url(room), {"search": "o"})

    assert response.status_code == 200
    assert ocs_data(response) == [
        {"id": "moderator", "label": "Moderator Person", "source": "users", "mentionId": "moderator"},
        {"id": "owner", "label": "Owner Person", "source": "users", "mentionId": "owner"},
    ]


def test_mention_suggestions_offer_all_for_its_prefix_and_the_room_name(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    by_prefix = ocs_data(client_for(student).get(mentions_url(room), {"search": "al"}))
    by_name = ocs_data(client_for(student).get(mentions_url(room), {"search": "clas"}))

    assert by_prefix[-1] == {"id": "all", "label": "Class", "source": "calls", "mentionId": "all"}
    assert [s["id"] for s in by_name] == ["all"]


def test_mention_suggestions_respect_the_limit_and_leave_out_the_caller(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    ids = [s["id"] for s in ocs_data(client_for(student).get(mentions_url(room), {"search": "", "limit": 1}))]

    assert ids[0] == "moderator" and "student" not in ids


def test_mention_suggestions_refuse_read_only_rooms_and_outsiders(
    client_for: ClientFor, room: Conversation, student: User, outsider: User
) -> None:
    assert client_for(outsider).get(mentions_url(room)).status_code == 404
    Conversation.objects.filter(pk=room.pk).update(read_only=1)
    assert client_for(student).get(mentions_url(room)).status_code == 403


@pytest.mark.parametrize("count", [3, 30])
def test_mention_suggestions_take_a_constant_number_of_queries(
    client_for: ClientFor, room: Conversation, student: User, count: int, django_assert_num_queries: Any
) -> None:
    for i in range(count):
        AttendeeFactory(room=room, user=UserFactory(username=f"pupil{i}"))
    client = client_for(student)

    # 1 the caller's attendee row with room; 2 the matching participants.
    with django_assert_num_queries(2):
        response = client.get(mentions_url(room), {"search": "pupil", "limit": 50})

    assert len(ocs_data(response)) == count


def test_students_see_no_all_when_only_moderators_may_mention_everyone(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    Conversation.objects.filter(pk=room.pk).update(mention_permissions=1)

    ids = [s["id"] for s in ocs_data(client_for(student).get(mentions_url(room), {"search": "a"}))]

    assert "all" not in ids
    assert Attendee.objects.filter(room=room).count() == 3
