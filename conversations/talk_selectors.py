"""Reads of the Talk surface (issue 10): reactions of messages, mention candidates, poll votes and
reminders. Each costs a fixed number of queries whatever the number of messages, reactions or
attendees, and returns models or plain values (``presenters`` formats them)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Poll, PollVote, Reaction, Reminder

UPCOMING_REMINDERS = 10


def message_reactions(*, message: ChatMessage, reaction: str | None = None) -> QuerySet[Reaction]:
    """The reactions of one message (only ``reaction`` if given), oldest first: one query."""
    rows = Reaction.objects.filter(message=message).order_by("id")
    if reaction:
        rows = rows.filter(reaction=reaction)
    return rows


def reactions_of_viewer(*, message_ids: Iterable[int], viewer: Attendee) -> dict[int, list[str]]:
    """The emoji ``viewer`` reacted with, by message id, in the order given: one query."""
    mine: dict[int, list[str]] = {}
    rows = (
        Reaction.objects.filter(
            message_id__in=list(message_ids), actor_type=viewer.actor_type, actor_id=viewer.actor_id
        )
        .order_by("id")
        .values_list("message_id", "reaction")
    )
    for message_id, reaction in rows:
        mine.setdefault(message_id, []).append(reaction)
    return mine


def mention_matches(*, attendee: Attendee, needle: str, limit: int) -> list[tuple[str, str]]:
    """The room's other users whose id or display name contains ``needle`` as (user id, display
    name), exact id matches first, then by display name; at most ``limit``: one query."""
    rows = (
        Attendee.objects.filter(room=attendee.room, actor_type=Attendee.ACTOR_USERS)
        .exclude(pk=attendee.pk)
        .filter(Q(actor_id__icontains=needle) | Q(display_name__icontains=needle))
        .order_by("display_name", "actor_id")
        .values_list("actor_id", "display_name")
    )
    lowered = needle.lower()
    matches = sorted(rows[: limit * 2 if needle else limit], key=lambda row: (row[0].lower() != lowered,))
    return matches[:limit]


def poll_votes_of(*, poll: Poll, viewer: Attendee) -> list[int]:
    """The option ids ``viewer`` voted for: one query."""
    return list(
        PollVote.objects.filter(poll=poll, actor_type=viewer.actor_type, actor_id=viewer.actor_id)
        .order_by("option_id")
        .values_list("option_id", flat=True)
    )


def poll_vote_details(*, poll: Poll) -> list[tuple[str, str, str, int]]:
    """Who voted for what: (actor type, actor id, display name, option id), oldest first: one query."""
    return list(
        PollVote.objects.filter(poll=poll)
        .order_by("id")
        .values_list("actor_type", "actor_id", "actor_display_name", "option_id")
    )


def upcoming_reminders(*, user: User) -> list[Reminder]:
    """The user's next reminders (Talk: 10) still to come, of messages that have not expired in
    rooms the user is still in, soonest first, with their messages and rooms: one query."""
    now = timezone.now()
    in_room = Attendee.objects.filter(
        room_id=OuterRef("message__room_id"), actor_type=Attendee.ACTOR_USERS, user_id=user.pk
    )
    return list(
        Reminder.objects.filter(user=user, remind_at__gte=now)
        .filter(Exists(in_room))
        .filter(Q(message__expires_at__isnull=True) | Q(message__expires_at__gt=now))
        .select_related("message", "message__room")
        .order_by("remind_at", "id")[:UPCOMING_REMINDERS]
    )
