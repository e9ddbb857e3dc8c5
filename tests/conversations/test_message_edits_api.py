"""Editing (``PUT``) and deleting (``DELETE``) a chat message and clearing the history
(``DELETE /chat/{token}``), as in Talk's ChatController and docs/chat.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation, Reaction, Reminder
from tests.conftest import V1, ocs_data, ocs_error
from tests.conversations.helpers import attendee_of, breakout_rooms_build
from tests.factories import AttendeeFactory, ChatMessageFactory, ConversationFactory
from tests.helpers import EVENT_QUERIES

ClientFor = Callable[[User], APIClient]


def message_url(room: Conversation, message: ChatMessage | int) -> str:
    return f"{V1}/chat/{room.token}/{message if isinstance(message, int) else message.pk}"


def by(room: Conversation, user: User, text: str = "hello", **fields: Any) -> ChatMessage:
    return ChatMessageFactory(
        room=room, actor_id=user.username, actor_display_name=user.get_display_name(), message=text, **fields
    )


# --- edit ---------------------------------------------------------------------------------------


def test_editing_an_own_message_answers_the_system_message_with_the_edited_parent(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    message = by(room, student)

    response = client_for(student).put(message_url(room, message), {"message": "  changed  "}, format="json")

    assert response.status_code == 200
    data = ocs_data(response)
    assert (data["systemMessage"], data["message"], data["actorId"]) == (
        "message_edited",
        "You edited a message",
        "student",
    )
    parent = data["parent"]
    assert (parent["id"], parent["message"], parent["lastEditActorId"]) == (message.pk, "changed", "student")
    assert (parent["lastEditActorType"], parent["lastEditActorDisplayName"]) == ("users", "Student Person")
    assert isinstance(parent["lastEditTimestamp"], int)
    message.refresh_from_db()
    assert message.message == "changed"


def test_others_see_who_edited(client_for: ClientFor, room: Conversation, student: User, owner: User) -> None:
    message = by(room, student)
    client_for(student).put(message_url(room, message), {"message": "changed"}, format="json")

    page = ocs_data(client_for(owner).get(f"{V1}/chat/{room.token}"))

    assert page[0]["message"] == "{actor} edited a message"
    assert page[1]["lastEditActorId"] == "student"


def test_moderators_edit_other_peoples_messages(
    client_for: ClientFor, room: Conversation, student: User, moderator: User
) -> None:
    message = by(room, student)

    response = client_for(moderator).put(message_url(room, message), {"message": "moderated"}, format="json")

    assert response.status_code == 200
    assert ocs_data(response)["parent"]["lastEditActorId"] == "moderator"


def test_students_cannot_edit_other_peoples_messages(
    client_for: ClientFor, room: Conversation, student: User, owner: User
) -> None:
    message = by(room, owner)

    response = client_for(student).put(message_url(room, message), {"message": "mine now"}, format="json")

    assert (response.status_code, ocs_error(response)) == (403, "permission")
    message.refresh_from_db()
    assert message.message == "hello"


def test_in_one_to_one_conversations_nobody_edits_the_other_ones_messages(
    client_for: ClientFor, owner: User, student: User
) -> None:
    room = ConversationFactory(type=Conversation.Type.ONE_TO_ONE, name="owner,student")
    AttendeeFactory(room=room, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    AttendeeFactory(room=room, user=student, participant_type=Attendee.ParticipantType.OWNER)
    message = by(room, student)

    edit = client_for(owner).put(message_url(room, message), {"message": "x"}, format="json")
    delete = client_for(owner).delete(message_url(room, message))

    assert (edit.status_code, delete.status_code) == (403, 403)


def test_messages_older_than_a_day_cannot_be_edited(client_for: ClientFor, room: Conversation, student: User) -> None:
    message = by(room, student, created_at=timezone.now() - timedelta(days=1, minutes=1))

    response = client_for(student).put(message_url(room, message), {"message": "late"}, format="json")

    assert (response.status_code, ocs_error(response)) == (400, "age")


def test_in_note_to_self_old_messages_can_be_edited(client_for: ClientFor, student: User) -> None:
    room = ConversationFactory(type=Conversation.Type.NOTE_TO_SELF)
    AttendeeFactory(room=room, user=student, participant_type=Attendee.ParticipantType.OWNER)
    message = by(room, student, created_at=timezone.now() - timedelta(days=30))

    response = client_for(student).put(message_url(room, message), {"message": "late"}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize(("text", "status"), [("   ", 400), ("", 400), ("x" * 32001, 413)])
def test_an_empty_or_too_long_edit_is_refused_with_message(
    client_for: ClientFor, room: Conversation, student: User, text: str, status: int
) -> None:
    message = by(room, student)

    response = client_for(student).put(message_url(room, message), {"message": text}, format="json")

    assert (response.status_code, ocs_error(response)) == (status, "message")


def test_a_missing_message_parameter_is_400(client_for: ClientFor, room: Conversation, student: User) -> None:
    response = client_for(student).put(message_url(room, by(room, student)), {}, format="json")

    assert (response.status_code, ocs_error(response)) == (400, "message")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_system_messages_and_deleted_comments_are_405(
    client_for: ClientFor, room: Conversation, owner: User, method: str
) -> None:
    system = by(room, owner, message_type=ChatMessage.Type.SYSTEM, system_message="conversation_created")
    deleted = by(room, owner, message_type=ChatMessage.Type.COMMENT_DELETED)
    client = client_for(owner)

    for message in (system, deleted):
        response = getattr(client, method)(message_url(room, message), {"message": "x"}, format="json")
        assert (response.status_code, ocs_error(response)) == (405, "message")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_unknown_messages_are_404_with_message(
    client_for: ClientFor, room: Conversation, student: User, method: str
) -> None:
    client = client_for(student)
    other_room_message = ChatMessageFactory(actor_id="student")

    for message_id in (999999, other_room_message.pk, 2**63):
        response = getattr(client, method)(message_url(room, message_id), {"message": "x"}, format="json")
        assert (response.status_code, ocs_error(response)) == (404, "message")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_outsiders_get_404_and_anonymous_callers_401(
    client_for: ClientFor, anonymous_client: APIClient, room: Conversation, outsider: User, student: User, method: str
) -> None:
    message = by(room, student)

    outsider_response = getattr(client_for(outsider), method)(message_url(room, message), {"message": "x"})
    anonymous_response = getattr(anonymous_client, method)(message_url(room, message), {"message": "x"})

    assert (outsider_response.status_code, anonymous_response.status_code) == (404, 401)


@pytest.mark.parametrize("method", ["put", "delete"])
def test_read_only_conversations_and_the_lobby_refuse_changes(
    client_for: ClientFor, room: Conversation, student: User, method: str
) -> None:
    message = by(room, student)
    client = client_for(student)
    Conversation.objects.filter(pk=room.pk).update(read_only=1)
    read_only = getattr(client, method)(message_url(room, message), {"message": "x"}, format="json")
    Conversation.objects.filter(pk=room.pk).update(read_only=0, lobby_state=1)
    lobby = getattr(client, method)(message_url(room, message), {"message": "x"}, format="json")

    assert (read_only.status_code, lobby.status_code) == (403, 412)
    assert ChatMessage.objects.get(pk=message.pk).message_type == ChatMessage.Type.COMMENT


def test_a_broadcast_in_a_breakout_room_is_a_normal_message(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    breakout = breakout_rooms_build(room, count=1, started=True)[0]
    broadcast = by(breakout, owner, text="Back in 5 minutes")

    edit = client_for(owner).put(message_url(breakout, broadcast), {"message": "Back in 10"}, format="json")
    delete = client_for(owner).delete(message_url(breakout, broadcast))

    assert (edit.status_code, delete.status_code) == (200, 200)


# --- delete -------------------------------------------------------------------------------------


def test_deleting_leaves_talks_placeholder_and_posts_message_deleted(
    client_for: ClientFor, room: Conversation, student: User, owner: User
) -> None:
    message = by(room, student, reference_id="ref-1")
    Reaction.objects.create(message=message, actor_id="owner", reaction="👍")

    response = client_for(student).delete(message_url(room, message))

    assert response.status_code == 200
    data = ocs_data(response)
    assert (data["systemMessage"], data["message"]) == ("message_deleted", "Message deleted by you")
    parent = data["parent"]
    assert (parent["id"], parent["messageType"], parent["message"]) == (
        message.pk,
        "comment_deleted",
        "Message deleted by you",
    )
    assert (parent["isReplyable"], parent["referenceId"], parent["reactions"]) == (False, "ref-1", [])
    stored = ChatMessage.objects.get(pk=message.pk)
    assert (stored.message_type, stored.message) == ("comment_deleted", "")
    assert not Reaction.objects.exists()
    seen_by_owner = ocs_data(client_for(owner).get(f"{V1}/chat/{room.token}"))[1]
    assert (seen_by_owner["message"], seen_by_owner["messageParameters"]["actor"]["id"]) == (
        "Message deleted by {actor}",
        "student",
    )


def test_moderators_delete_other_peoples_messages_and_students_do_not(
    client_for: ClientFor, room: Conversation, student: User, moderator: User, owner: User
) -> None:
    students = by(room, student)
    owners = by(room, owner)

    refused = client_for(student).delete(message_url(room, owners))
    deleted = client_for(moderator).delete(message_url(room, students))

    assert (refused.status_code, ocs_error(refused)) == (403, "permission")
    assert deleted.status_code == 200
    assert ocs_data(deleted)["parent"]["messageParameters"]["actor"]["id"] == "moderator"


def test_old_messages_can_be_deleted(client_for: ClientFor, room: Conversation, student: User) -> None:
    message = by(room, student, created_at=timezone.now() - timedelta(days=60))

    assert client_for(student).delete(message_url(room, message)).status_code == 200


def test_a_reply_to_a_deleted_message_shows_the_placeholder_as_parent(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    message = by(room, student)
    client = client_for(student)
    client.post(f"{V1}/chat/{room.token}", {"message": "answer", "replyTo": message.pk}, format="json")
    client.delete(message_url(room, message))

    page = ocs_data(client.get(f"{V1}/chat/{room.token}"))
    reply = next(m for m in page if m["message"] == "answer")

    assert reply["parent"]["messageType"] == "comment_deleted"


# --- clear history ------------------------------------------------------------------------------


def test_moderators_clear_the_history(
    client_for: ClientFor, room: Conversation, student: User, moderator: User
) -> None:
    messages = [by(room, student) for _ in range(3)]
    Reaction.objects.create(message=messages[0], actor_id="owner", reaction="👍")
    Attendee.objects.filter(room=room).update(last_read_message=messages[-1].pk, last_mention_message=messages[1].pk)

    response = client_for(moderator).delete(f"{V1}/chat/{room.token}")

    assert response.status_code == 200
    data = ocs_data(response)
    assert (data["systemMessage"], data["message"]) == (
        "history_cleared",
        "You cleared the history of the conversation",
    )
    assert list(ChatMessage.objects.filter(room=room).values_list("system_message", flat=True)) == ["history_cleared"]
    assert not Reaction.objects.exists()
    assert set(Attendee.objects.filter(room=room).values_list("last_read_message", "last_mention_message")) == {(0, 0)}


def test_clearing_the_history_deletes_its_reminders_and_keeps_other_rooms(
    client_for: ClientFor, room: Conversation, student: User, moderator: User
) -> None:
    other = ConversationFactory(type=Conversation.Type.GROUP)
    AttendeeFactory(room=other, user=student)
    mine, elsewhere = by(room, student), ChatMessageFactory(room=other, actor_id=student.username)
    later = timezone.now() + timedelta(hours=1)
    Reminder.objects.bulk_create([Reminder(user=student, message=m, remind_at=later) for m in (mine, elsewhere)])

    assert client_for(moderator).delete(f"{V1}/chat/{room.token}").status_code == 200

    assert list(Reminder.objects.values_list("message_id", flat=True)) == [elsewhere.pk]


def test_students_cannot_clear_the_history(client_for: ClientFor, room: Conversation, student: User) -> None:
    by(room, student)

    response = client_for(student).delete(f"{V1}/chat/{room.token}")

    assert response.status_code == 403
    assert ChatMessage.objects.filter(room=room).count() == 1


def test_one_to_one_and_read_only_histories_are_not_cleared(
    client_for: ClientFor, owner: User, student: User, room: Conversation
) -> None:
    one_to_one = ConversationFactory(type=Conversation.Type.ONE_TO_ONE, name="owner,student")
    AttendeeFactory(room=one_to_one, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    Conversation.objects.filter(pk=room.pk).update(read_only=1)

    assert client_for(owner).delete(f"{V1}/chat/{one_to_one.token}").status_code == 403
    assert client_for(owner).delete(f"{V1}/chat/{room.token}").status_code == 403


def test_clearing_answers_outsiders_404(client_for: ClientFor, room: Conversation, outsider: User) -> None:
    assert client_for(outsider).delete(f"{V1}/chat/{room.token}").status_code == 404


@pytest.mark.parametrize("count", [3, 30])
def test_clearing_takes_a_constant_number_of_queries(
    client_for: ClientFor, room: Conversation, owner: User, count: int, django_assert_num_queries: Any
) -> None:
    messages = ChatMessage.objects.bulk_create(
        ChatMessage(room=room, actor_id="owner", message=str(i)) for i in range(count)
    )
    ChatMessage.objects.bulk_create(
        ChatMessage(room=room, actor_id="owner", message="re", reply_to=message) for message in messages
    )
    Reaction.objects.bulk_create(Reaction(message=m, actor_id="owner", reaction="👍") for m in messages)
    Reminder.objects.bulk_create(Reminder(user=owner, message=m, remind_at=timezone.now()) for m in messages)
    attendee_of(room, owner)
    client = client_for(owner)

    # 1 the caller's attendee row; 2 savepoint; 3 the tree lock, 4 the attendee again under it;
    # 5 the reactions, 6 the reminders, 7 the messages, 8 the read markers; 9 the system message,
    # 10 last activity; 11 release savepoint.
    with django_assert_num_queries(11 + EVENT_QUERIES):
        response = client.delete(f"{V1}/chat/{room.token}")

    assert response.status_code == 200
