"""Lock paths of the Talk surface on PostgreSQL, with real transactions and real threads.

Each test holds the conversation tree's lock in one thread while it makes one change (deleting a
message, closing a poll, demoting a moderator, making the chat read-only), and sends the
competing request through the HTTP API in another thread, which must wait for the lock and then
decide on what it finds: a clear 4xx in the OCS envelope, never a 500, and nothing of its own
change left behind. The free-for-all tests release several requests at once (a barrier) and check
that every answer is a success or a 4xx and that the final state matches the successes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation, Poll, PollVote, Reaction
from conversations.services import attendee_settings, message_edits, polls
from conversations.services.chat import chat_message_post
from conversations.services.moderators import attendee_demote
from tests.breakout.test_lock_authorization import race_against_lock_holder
from tests.concurrency import run_together
from tests.conftest import OCS, requires_postgres
from tests.helpers import system_messages

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

V1 = f"{OCS}/apps/spreed/api/v1"
V4 = f"{OCS}/apps/spreed/api/v4"


def client(user: User) -> APIClient:
    api = APIClient(HTTP_OCS_APIREQUEST="true", HTTP_ACCEPT="application/json")
    api.force_authenticate(user)
    api.raise_request_exception = False  # a 500 must show as a status, not as an exception
    return api


def attendee(room: Conversation, user: User) -> Attendee:
    return Attendee.objects.select_related("room", "room__parent").get(room=room, user=user)


def request(user: User, method: str, path: str, body: dict[str, Any] | None = None) -> Callable[[], int]:
    def send() -> int:
        api = client(user)
        if method == "delete":
            return api.delete(path, QUERY_STRING="&".join(f"{k}={v}" for k, v in (body or {}).items())).status_code
        return getattr(api, method)(path, body or {}, format="json").status_code

    return send


def posted(room: Conversation, user: User, text: str = "hello") -> ChatMessage:
    return chat_message_post(attendee=attendee(room, user), message=text)


# --- edit vs delete of the same message ------------------------------------------------------------


def test_an_edit_waiting_while_the_message_is_deleted_is_refused(room: Conversation, student: User) -> None:
    message = posted(room, student)

    status = race_against_lock_holder(
        room,
        lambda: message_edits.chat_message_delete(attendee=attendee(room, student), message_id=message.pk) and None,
        request(student, "put", f"{V1}/chat/{room.token}/{message.pk}", {"message": "edited"}),
    )

    assert status in (400, 404, 405), status
    stored = ChatMessage.objects.get(pk=message.pk)
    assert stored.message_type == ChatMessage.Type.COMMENT_DELETED
    assert "message_edited" not in system_messages(room)


def test_a_delete_waiting_while_the_message_is_edited_deletes_the_edited_message(
    room: Conversation, student: User
) -> None:
    message = posted(room, student)

    status = race_against_lock_holder(
        room,
        lambda: (
            message_edits.chat_message_edit(attendee=attendee(room, student), message_id=message.pk, message="edited")
            and None
        ),
        request(student, "delete", f"{V1}/chat/{room.token}/{message.pk}"),
    )

    assert status == 200
    assert ChatMessage.objects.get(pk=message.pk).message_type == ChatMessage.Type.COMMENT_DELETED
    assert system_messages(room) == ["message_edited", "message_deleted"]


def test_edits_and_deletes_of_one_message_released_together_end_deleted(
    room: Conversation, owner: User, student: User
) -> None:
    message = posted(room, student)
    path = f"{V1}/chat/{room.token}/{message.pk}"

    statuses = run_together(
        [request(student, "put", path, {"message": f"edit {i}"}) for i in range(3)]
        + [request(owner, "delete", path), request(student, "delete", path)]
    )

    assert all(isinstance(s, int) and s < 500 for s in statuses), statuses
    edits, deletes = statuses[:3], statuses[3:]
    assert sorted(deletes) in ([200, 200], [200, 405], [200, 404], [200, 400])
    assert ChatMessage.objects.get(pk=message.pk).message_type == ChatMessage.Type.COMMENT_DELETED
    assert system_messages(room).count("message_edited") == edits.count(200)
    assert system_messages(room).count("message_deleted") == deletes.count(200)


# --- votes vs closing a poll ---------------------------------------------------------------------


def _poll(room: Conversation, author: User) -> Poll:
    return polls.poll_create(
        attendee=attendee(room, author), question="Which?", options=["A", "B"], result_mode=0, max_votes=0
    )


def test_a_vote_waiting_while_the_poll_is_closed_is_refused(room: Conversation, owner: User, student: User) -> None:
    poll = _poll(room, owner)

    status = race_against_lock_holder(
        room,
        lambda: polls.poll_close(attendee=attendee(room, owner), poll_id=poll.pk) and None,
        request(student, "post", f"{V1}/poll/{room.token}/{poll.pk}", {"optionIds": [0]}),
    )

    assert status == 400
    assert not PollVote.objects.filter(poll=poll).exists()
    assert Poll.objects.get(pk=poll.pk).status == Poll.Status.CLOSED


def test_two_votes_and_a_close_released_together_count_exactly_the_accepted_votes(
    room: Conversation, owner: User, moderator: User, student: User
) -> None:
    poll = _poll(room, owner)
    path = f"{V1}/poll/{room.token}/{poll.pk}"

    statuses = run_together(
        [
            request(student, "post", path, {"optionIds": [0]}),
            request(moderator, "post", path, {"optionIds": [1]}),
            request(owner, "delete", path),
        ]
    )

    assert all(isinstance(s, int) for s in statuses), statuses
    votes, close = statuses[:2], statuses[2]
    assert close == 200
    assert set(votes) <= {200, 400}, votes
    assert PollVote.objects.filter(poll=poll).count() == votes.count(200)
    shown = client(owner).get(path).json()["ocs"]["data"]
    assert shown["status"] == 1
    assert shown["numVoters"] == votes.count(200)


# --- a reaction vs deleting the message ------------------------------------------------------------


def test_a_reaction_waiting_while_the_message_is_deleted_is_refused(
    room: Conversation, owner: User, student: User
) -> None:
    message = posted(room, student)

    status = race_against_lock_holder(
        room,
        lambda: message_edits.chat_message_delete(attendee=attendee(room, owner), message_id=message.pk) and None,
        request(owner, "post", f"{V1}/reaction/{room.token}/{message.pk}", {"reaction": "👍"}),
    )

    assert status in (400, 404), status
    assert not Reaction.objects.filter(message_id=message.pk).exists()
    assert ChatMessage.objects.get(pk=message.pk).reactions in ({}, None)


# --- attendee permissions vs a demotion of the moderator setting them -------------------------------


def test_permissions_set_by_a_moderator_demoted_while_waiting_are_refused(
    room: Conversation, owner: User, moderator: User, student: User
) -> None:
    target = attendee(room, student)
    before = target.permissions
    demoted = attendee(room, moderator)

    status = race_against_lock_holder(
        room,
        lambda: attendee_demote(actor=owner, room=room, attendee_id=demoted.pk) and None,
        request(
            moderator,
            "put",
            f"{V4}/room/{room.token}/attendees/permissions",
            {"attendeeId": target.pk, "method": "set", "permissions": 128},
        ),
    )

    assert status == 403
    assert Attendee.objects.get(pk=target.pk).permissions == before
    assert Attendee.objects.get(pk=demoted.pk).participant_type == Attendee.ParticipantType.USER


def test_default_permissions_set_by_a_moderator_demoted_while_waiting_are_refused(
    room: Conversation, owner: User, moderator: User
) -> None:
    demoted = attendee(room, moderator)

    status = race_against_lock_holder(
        room,
        lambda: attendee_demote(actor=owner, room=room, attendee_id=demoted.pk) and None,
        request(moderator, "put", f"{V4}/room/{room.token}/permissions/default", {"permissions": 128}),
    )

    assert status == 403
    assert Conversation.objects.get(pk=room.pk).default_permissions == 0


# --- read-only vs a chat post ----------------------------------------------------------------------


def test_a_post_waiting_while_the_chat_becomes_read_only_is_refused(
    room: Conversation, owner: User, student: User
) -> None:
    status = race_against_lock_holder(
        room,
        lambda: (
            attendee_settings.conversation_read_only_set(actor=owner, attendee=attendee(room, owner), state=1) and None
        ),
        request(student, "post", f"{V1}/chat/{room.token}", {"message": "too late"}),
    )

    assert status == 403
    assert not ChatMessage.objects.filter(room=room, message="too late").exists()
    assert Conversation.objects.get(pk=room.pk).read_only == 1


def test_posts_and_a_read_only_switch_released_together_leave_only_accepted_posts(
    room: Conversation, owner: User, moderator: User, student: User
) -> None:
    path = f"{V1}/chat/{room.token}"
    statuses = run_together(
        [request(student, "post", path, {"message": f"post {i}"}) for i in range(4)]
        + [request(moderator, "put", f"{V4}/room/{room.token}/read-only", {"state": 1})]
    )

    assert all(isinstance(s, int) for s in statuses), statuses
    posts, switch = statuses[:4], statuses[4]
    assert switch == 200
    assert set(posts) <= {201, 403}, posts
    comments = ChatMessage.objects.filter(room=room, message__startswith="post ")
    assert comments.count() == posts.count(201)
    read_only_at = ChatMessage.objects.get(room=room, system_message="read_only").pk
    assert not comments.filter(pk__gt=read_only_at).exists()  # nothing was posted after the switch
