"""Rows that refer to a conversation without a cascade (reactions and reminders of its messages,
its polls and their votes), made directly in the database, and the check that a deletion left
none of them behind."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from conversations.models import ChatMessage, Conversation, Poll, PollVote, Reaction, Reminder
from tests.factories import ChatMessageFactory, UserFactory


def leftovers_add(room: Conversation, *, messages: int = 2, reactions: int = 2, votes: int = 2) -> None:
    """``messages`` messages in ``room``, each with ``reactions`` reactions and as many reminders,
    and a poll with ``votes`` votes."""
    users = [UserFactory() for _ in range(max(reactions, votes))]
    posted = [ChatMessageFactory(room=room) for _ in range(messages)]
    remind_at = timezone.now() + timedelta(hours=1)
    pairs = [(message, user) for message in posted for user in users[:reactions]]
    Reaction.objects.bulk_create(Reaction(message=m, actor_id=u.username, reaction="👍") for m, u in pairs)
    Reminder.objects.bulk_create(Reminder(message=m, user=u, remind_at=remind_at) for m, u in pairs)
    poll = Poll.objects.create(room=room, question="Lunch?", options=["yes", "no"], actor_id="owner")
    PollVote.objects.bulk_create(PollVote(poll=poll, actor_id=user.username, option_id=0) for user in users[:votes])


def leftovers_of(rooms: list[Conversation]) -> dict[str, int]:
    """How many rows of each table refer to ``rooms`` or to their messages (the messages are gone
    with the rooms: rows that point to no existing message count as leftovers too)."""
    room_ids = [room.pk for room in rooms]
    live_messages = ChatMessage.objects.values("pk")
    polls = Poll.objects.filter(room_id__in=room_ids)
    return {
        "reactions": Reaction.objects.exclude(message_id__in=live_messages).count()
        + Reaction.objects.filter(message__room_id__in=room_ids).count(),
        "reminders": Reminder.objects.exclude(message_id__in=live_messages).count()
        + Reminder.objects.filter(message__room_id__in=room_ids).count(),
        "polls": polls.count(),
        "votes": PollVote.objects.filter(poll__in=polls).count()
        + PollVote.objects.exclude(poll_id__in=Poll.objects.values("pk")).count(),
    }


NONE_LEFT = {"reactions": 0, "reminders": 0, "polls": 0, "votes": 0}


def kept_counts() -> dict[str, int]:
    return {
        "reactions": Reaction.objects.count(),
        "reminders": Reminder.objects.count(),
        "polls": Poll.objects.count(),
        "votes": PollVote.objects.count(),
    }
