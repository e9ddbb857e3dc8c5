"""Polls v1 (``/poll/{token}`` and ``/poll/{token}/{pollId}``), as in Talk's docs/poll.md and
PollController: create, vote, show, close; public and hidden results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation, Poll, PollVote
from tests.conftest import V1, ocs_data
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory
from tests.helpers import system_messages

ClientFor = Callable[[User], APIClient]


def create(client: APIClient, room: Conversation, **fields: Any) -> Any:
    body = {"question": "Lunch?", "options": ["Pizza", "Salad"], "resultMode": 0, "maxVotes": 1, **fields}
    return client.post(f"{V1}/poll/{room.token}", body, format="json")


def poll_url(room: Conversation, poll_id: int) -> str:
    return f"{V1}/poll/{room.token}/{poll_id}"


@pytest.fixture
def poll(client_for: ClientFor, room: Conversation, owner: User) -> int:
    return ocs_data(create(client_for(owner), room))["id"]


def test_creating_a_poll_answers_201_and_shares_it_into_the_chat(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    response = create(client_for(student), room, question="  Lunch?  ", options=[" Pizza ", "Salad", "Soup"])

    assert response.status_code == 201
    data = ocs_data(response)
    assert {key: data[key] for key in ("question", "options", "status", "resultMode", "maxVotes")} == {
        "question": "Lunch?",
        "options": ["Pizza", "Salad", "Soup"],
        "status": 0,
        "resultMode": 0,
        "maxVotes": 1,
    }
    assert (data["actorId"], data["votes"], data["numVoters"], data["votedSelf"]) == ("student", [], 0, [])
    shared = ChatMessage.objects.get(room=room)
    assert (shared.message_type, shared.message) == ("comment", "{object}")
    assert shared.parameters["object"] == {"type": "talk-poll", "id": str(data["id"]), "name": "Lunch?"}


def test_a_poll_can_be_created_with_form_lists(client_for: ClientFor, room: Conversation, student: User) -> None:
    response = client_for(student).post(
        f"{V1}/poll/{room.token}",
        "question=Q&options[]=a&options[]=b&resultMode=1&maxVotes=0",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 201
    assert ocs_data(response)["options"] == ["a", "b"]


@pytest.mark.parametrize(
    "fields",
    [
        {"question": " "},
        {"question": "x" * 32001},
        {"options": ["only one"]},
        {"options": ["a", " "]},
        {"options": "a,b"},
        {"options": ["a", 2]},
        {"resultMode": 2},
        {"maxVotes": -1},
        {"maxVotes": 3},
        {"question": None},
    ],
)
def test_invalid_polls_are_400_without_error_key(
    client_for: ClientFor, room: Conversation, student: User, fields: dict
) -> None:
    response = create(client_for(student), room, **fields)

    assert (response.status_code, ocs_data(response)) == (400, [])
    assert not Poll.objects.exists()


def test_polls_are_refused_in_one_to_one_read_only_rooms_and_to_outsiders(
    client_for: ClientFor, room: Conversation, owner: User, student: User, outsider: User
) -> None:
    one_to_one = ConversationFactory(type=Conversation.Type.ONE_TO_ONE, name="owner,student")
    AttendeeFactory(room=one_to_one, user=owner, participant_type=Attendee.ParticipantType.OWNER)

    assert create(client_for(owner), one_to_one).status_code == 400
    assert create(client_for(outsider), room).status_code == 404
    Conversation.objects.filter(pk=room.pk).update(read_only=1)
    assert create(client_for(student), room).status_code == 403
    Conversation.objects.filter(pk=room.pk).update(read_only=0, lobby_state=1)
    assert create(client_for(student), room).status_code == 412
    assert not Poll.objects.exists()


def test_voting_on_a_public_poll_shows_the_results_and_posts_poll_voted(
    client_for: ClientFor, room: Conversation, student: User, moderator: User, poll: int
) -> None:
    response = client_for(student).post(poll_url(room, poll), {"optionIds": [1]}, format="json")

    assert response.status_code == 200
    data = ocs_data(response)
    assert (data["votes"], data["numVoters"], data["votedSelf"]) == ({"option-1": 1}, 1, [1])
    assert system_messages(room)[-1] == "poll_voted"
    before_voting = ocs_data(client_for(moderator).get(poll_url(room, poll)))
    assert (before_voting["votes"], before_voting["numVoters"]) == ([], 1)  # moderators see the count


def test_voting_again_replaces_the_vote_and_an_empty_vote_withdraws_it(
    client_for: ClientFor, room: Conversation, student: User, poll: int
) -> None:
    client = client_for(student)
    client.post(poll_url(room, poll), {"optionIds": [0]}, format="json")

    changed = ocs_data(client.post(poll_url(room, poll), {"optionIds": [1]}, format="json"))
    withdrawn = ocs_data(client.post(poll_url(room, poll), {"optionIds": []}, format="json"))

    assert (changed["votes"], changed["votedSelf"]) == ({"option-1": 1}, [1])
    assert (withdrawn["votedSelf"], withdrawn["votes"]) == ([], [])
    assert not PollVote.objects.exists()


@pytest.mark.parametrize("option_ids", [[2], [-1], [0, 0], [0, 1], "x", [True]])
def test_invalid_votes_are_400(
    client_for: ClientFor, room: Conversation, student: User, poll: int, option_ids: Any
) -> None:
    response = client_for(student).post(poll_url(room, poll), {"optionIds": option_ids}, format="json")

    assert (response.status_code, ocs_data(response)) == (400, [])
    assert not PollVote.objects.exists()


def test_students_see_no_results_of_an_open_poll_before_voting(
    client_for: ClientFor, room: Conversation, student: User, moderator: User, poll: int
) -> None:
    client_for(moderator).post(poll_url(room, poll), {"optionIds": [0]}, format="json")

    data = ocs_data(client_for(student).get(poll_url(room, poll)))

    assert (data["votes"], data["numVoters"], data["votedSelf"]) == ([], 0, [])


def test_a_hidden_poll_shows_only_the_summary_once_closed(
    client_for: ClientFor, room: Conversation, owner: User, student: User, moderator: User
) -> None:
    poll_id = ocs_data(create(client_for(owner), room, resultMode=1, maxVotes=0))["id"]
    voted = ocs_data(client_for(student).post(poll_url(room, poll_id), {"optionIds": [0, 1]}, format="json"))
    client_for(moderator).post(poll_url(room, poll_id), {"optionIds": [0]}, format="json")

    closed = client_for(owner).delete(poll_url(room, poll_id))

    assert voted["votes"] == []
    assert closed.status_code == 200
    data = ocs_data(closed)
    assert (data["status"], data["votes"], data["numVoters"]) == (1, {"option-0": 2, "option-1": 1}, 2)
    assert "details" not in data
    assert "poll_voted" not in system_messages(room)
    assert system_messages(room)[-1] == "poll_closed"


def test_a_closed_public_poll_lists_who_voted_for_what(
    client_for: ClientFor, room: Conversation, owner: User, student: User, poll: int
) -> None:
    client_for(student).post(poll_url(room, poll), {"optionIds": [1]}, format="json")
    client_for(owner).delete(poll_url(room, poll))

    data = ocs_data(client_for(student).get(poll_url(room, poll)))

    assert data["details"] == [
        {"actorType": "users", "actorId": "student", "actorDisplayName": "Student Person", "optionId": 1}
    ]


def test_only_the_author_or_moderators_close_a_poll_and_only_once(
    client_for: ClientFor, room: Conversation, owner: User, student: User, moderator: User, poll: int
) -> None:
    by_student = client_for(student).delete(poll_url(room, poll))
    by_moderator = client_for(moderator).delete(poll_url(room, poll))
    again = client_for(owner).delete(poll_url(room, poll))
    vote_after = client_for(student).post(poll_url(room, poll), {"optionIds": [0]}, format="json")

    assert (by_student.status_code, by_moderator.status_code, again.status_code) == (403, 200, 400)
    assert vote_after.status_code == 400


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_polls_and_outsiders_are_404(
    client_for: ClientFor, room: Conversation, student: User, outsider: User, poll: int, method: str
) -> None:
    other_room = ConversationFactory()
    AttendeeFactory(room=other_room, user=student)

    assert getattr(client_for(student), method)(poll_url(room, 999999)).status_code == 404
    assert getattr(client_for(student), method)(poll_url(other_room, poll)).status_code == 404
    assert getattr(client_for(student), method)(poll_url(room, 2**64)).status_code == 404
    assert getattr(client_for(outsider), method)(poll_url(room, poll)).status_code == 404


def test_a_shared_poll_cannot_be_edited(client_for: ClientFor, room: Conversation, owner: User, poll: int) -> None:
    shared = ChatMessage.objects.get(room=room, message="{object}")

    response = client_for(owner).put(f"{V1}/chat/{room.token}/{shared.pk}", {"message": "x"}, format="json")

    assert response.status_code == 405


@pytest.mark.parametrize("count", [3, 30])
def test_showing_a_closed_public_poll_takes_a_constant_number_of_queries(
    client_for: ClientFor, room: Conversation, owner: User, poll: int, count: int, django_assert_num_queries: Any
) -> None:
    for i in range(count):
        voter = UserFactory(username=f"voter{i}")
        AttendeeFactory(room=room, user=voter)
        client_for(voter).post(poll_url(room, poll), {"optionIds": [i % 2]}, format="json")
    client_for(owner).delete(poll_url(room, poll))
    client = client_for(owner)

    # 1 the caller's attendee row; 2 the poll; 3 the caller's votes; 4 who voted for what.
    with django_assert_num_queries(4):
        response = client.get(poll_url(room, poll))

    assert ocs_data(response)["numVoters"] == count
    assert len(ocs_data(response)["details"]) == count
