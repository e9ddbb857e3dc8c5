"""Deleting a conversation (DELETE /room/{token}, the last user leaving) deletes its messages'
reactions and reminders, its polls and their votes (and those of its breakout rooms), with a
query count that does not grow with them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, Conversation
from conversations.services.lifecycle import conversation_delete
from conversations.services.participants import participant_leave
from tests.conftest import OCS
from tests.conversations.helpers import breakout_rooms_build
from tests.conversations.leftovers import NONE_LEFT, kept_counts, leftovers_add, leftovers_of
from tests.factories import AttendeeFactory, ConversationFactory

ClientFor = Callable[[User], APIClient]


def other_room(owner: User) -> Conversation:
    """A conversation that no deletion here touches, with rows of its own."""
    kept = ConversationFactory(type=Conversation.Type.GROUP, name="Kept")
    AttendeeFactory(room=kept, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    leftovers_add(kept)
    return kept


def test_deleting_a_conversation_deletes_its_and_its_breakout_rooms_reactions_reminders_and_polls(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    breakout = breakout_rooms_build(room, count=1, started=True)[0]
    leftovers_add(room)
    leftovers_add(breakout)
    other_room(owner)
    before = kept_counts()

    response = client_for(owner).delete(f"{OCS}/apps/spreed/api/v4/room/{room.token}")

    assert response.status_code == 200
    assert leftovers_of([room, breakout]) == NONE_LEFT
    assert kept_counts() == {"reactions": 4, "reminders": 4, "polls": 1, "votes": 2}
    assert before == {"reactions": 12, "reminders": 12, "polls": 3, "votes": 6}


def test_the_last_user_leaving_deletes_the_conversations_reactions_reminders_and_polls(
    client_for: ClientFor, owner: User
) -> None:
    alone = ConversationFactory(type=Conversation.Type.GROUP)
    AttendeeFactory(room=alone, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    breakout = breakout_rooms_build(alone, count=1)[0]
    leftovers_add(alone)
    leftovers_add(breakout)
    other_room(owner)

    response = client_for(owner).delete(f"{OCS}/apps/spreed/api/v4/room/{alone.token}/participants/self")

    assert response.status_code == 200
    assert not Conversation.objects.filter(pk__in=[alone.pk, breakout.pk]).exists()
    assert leftovers_of([alone, breakout]) == NONE_LEFT
    assert kept_counts() == {"reactions": 4, "reminders": 4, "polls": 1, "votes": 2}


def test_the_last_user_leaving_a_one_to_one_conversation_deletes_its_reactions_reminders_and_polls(
    owner: User,
) -> None:
    one_to_one = ConversationFactory(type=Conversation.Type.ONE_TO_ONE)
    AttendeeFactory(room=one_to_one, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    leftovers_add(one_to_one)
    other_room(owner)

    participant_leave(actor=owner, room=one_to_one)

    assert not Conversation.objects.filter(pk=one_to_one.pk).exists()
    assert leftovers_of([one_to_one]) == NONE_LEFT
    assert kept_counts() == {"reactions": 4, "reminders": 4, "polls": 1, "votes": 2}


def deletable(owner: User, *, size: int) -> Conversation:
    room = ConversationFactory(type=Conversation.Type.GROUP)
    AttendeeFactory(room=room, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    for child in [room, *breakout_rooms_build(room, count=size)]:
        leftovers_add(child, messages=size, reactions=size, votes=size)
    return room


# SAVEPOINT; the tree lock; the caller's role (leave: the caller's row and the counts of users and
# moderators, one query more); DELETE reactions, DELETE reminders, DELETE poll votes, DELETE polls
# (one each, a subquery on the rooms' ids: the 4 queries more); then Django's cascading delete,
# one level of the tree at a time (SELECT the rooms, SELECT each level's breakout rooms, chat ids
# and rounds, DELETE attendees, pictures, timers, assistance requests, UPDATE replies, DELETE
# chat, DELETE rooms); RELEASE.
@pytest.mark.parametrize(
    ("operation", "queries"),
    [
        (lambda owner, room: conversation_delete(actor=owner, room=room), 26),
        (lambda owner, room: participant_leave(actor=owner, room=room), 27),
    ],
    ids=["delete", "last-user-leaves"],
)
def test_deleting_a_conversation_costs_the_same_queries_whatever_its_size(
    owner: User, django_assert_num_queries: Any, operation: Callable[[User, Conversation], None], queries: int
) -> None:
    small, large = deletable(owner, size=1), deletable(owner, size=6)

    with django_assert_num_queries(queries):
        operation(owner, small)
    with django_assert_num_queries(queries):
        operation(owner, large)

    assert leftovers_of([small, large]) == NONE_LEFT
