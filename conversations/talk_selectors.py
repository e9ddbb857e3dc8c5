"""Reads of the Talk surface (issue 10): reactions of messages, mention suggestions. Each costs a
fixed number of queries whatever the number of messages, reactions or attendees."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Poll, PollVote, Reaction, Reminder
from conversations.presenters import message_payload, timestamp
from project.ocs.renderers import JsonObject


def reactions_of_message(*, message: ChatMessage, reaction: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Talk's reaction list of one message in one query: each emoji (in the order it was first
    used) with the actors who reacted with it, oldest first."""
    rows = Reaction.objects.filter(message=message).order_by("id")
    if reaction:
        rows = rows.filter(reaction=reaction)
    result: dict[str, list[dict[str, Any]]] = JsonObject()  # "{}" when empty, as Talk sends it
    for row in rows:
        result.setdefault(row.reaction, []).append(
            {
                "actorType": row.actor_type,
                "actorId": row.actor_id,
                "actorDisplayName": row.actor_display_name,
                "timestamp": timestamp(row.created_at),
            }
        )
    return result


def reactions_attach(payloads: Iterable[dict[str, Any]], *, viewer: Attendee) -> None:
    """Add ``reactionsSelf`` (the viewer's emoji) to formatted messages and their ``parent``s that
    carry reactions: one query for the page, none when no message on it has reactions."""
    payloads = list(payloads)
    targets = payloads + [p["parent"] for p in payloads if isinstance(p.get("parent"), dict)]
    ids = {p["id"] for p in targets if p.get("reactions")}
    if not ids:
        return
    mine: dict[int, list[str]] = {}
    rows = (
        Reaction.objects.filter(message_id__in=ids, actor_type=viewer.actor_type, actor_id=viewer.actor_id)
        .order_by("id")
        .values_list("message_id", "reaction")
    )
    for message_id, reaction in rows:
        mine.setdefault(message_id, []).append(reaction)
    for payload in targets:
        if payload["id"] in mine:
            payload["reactionsSelf"] = mine[payload["id"]]


def mention_suggestions(
    *, attendee: Attendee, search: str, limit: int, include_status: bool = False
) -> list[dict[str, Any]]:
    """Talk's mention autocomplete in one query: the room's other users whose id or display name
    contains ``search`` (exact matches first, then by display name), then the whole conversation
    (``all``, source ``calls``) when ``search`` matches it and the caller may mention everyone.
    This service keeps no user statuses, so ``includeStatus`` adds nothing."""
    room = attendee.room
    needle = search.strip()
    rows = (
        Attendee.objects.filter(room=room, actor_type=Attendee.ACTOR_USERS)
        .exclude(pk=attendee.pk)
        .filter(Q(actor_id__icontains=needle) | Q(display_name__icontains=needle))
        .order_by("display_name", "actor_id")
        .values_list("actor_id", "display_name")
    )
    lowered = needle.lower()
    matches = sorted(rows[: limit * 2 if needle else limit], key=lambda row: (row[0].lower() != lowered,))
    suggestions: list[dict[str, Any]] = [
        {"id": actor_id, "label": display_name or actor_id, "source": "users", "mentionId": actor_id}
        for actor_id, display_name in matches[:limit]
    ]
    may_mention_all = room.mention_permissions == 0 or attendee.is_moderator
    if may_mention_all and (not needle or "all".startswith(lowered) or lowered in room.name.lower()):
        suggestions.append({"id": "all", "label": room.name, "source": "calls", "mentionId": "all"})
    return suggestions


def poll_payload(poll: Poll, *, viewer: Attendee) -> dict[str, Any]:
    """Talk's poll data for ``viewer``: at most two queries (the viewer's votes; who voted for
    what, only for a closed public poll), whatever the number of votes.

    The results (``votes``) of an open poll are only shown to those who voted on a public poll;
    ``numVoters`` also to the author and moderators, so that they know when to close it."""
    voted_self = list(
        PollVote.objects.filter(poll=poll, actor_type=viewer.actor_type, actor_id=viewer.actor_id)
        .order_by("option_id")
        .values_list("option_id", flat=True)
    )
    public = poll.result_mode == Poll.ResultMode.PUBLIC
    closed = poll.status == Poll.Status.CLOSED
    data: dict[str, Any] = {
        "id": poll.pk,
        "question": poll.question,
        "options": poll.options,
        "votes": poll.votes,
        "actorType": poll.actor_type,
        "actorId": poll.actor_id,
        "actorDisplayName": poll.actor_display_name,
        "status": poll.status,
        "resultMode": poll.result_mode,
        "maxVotes": poll.max_votes,
        "numVoters": poll.num_voters,
    }
    if not (voted_self and public) and not closed:
        data["votes"] = []
        author = poll.actor_type == viewer.actor_type and poll.actor_id == viewer.actor_id
        if not (author or viewer.is_moderator):
            data["numVoters"] = 0
    elif public and closed:
        data["details"] = [
            {"actorType": actor_type, "actorId": actor_id, "actorDisplayName": name, "optionId": option}
            for actor_type, actor_id, name, option in PollVote.objects.filter(poll=poll)
            .order_by("id")
            .values_list("actor_type", "actor_id", "actor_display_name", "option_id")
        ]
    data["votedSelf"] = voted_self
    return data


UPCOMING_REMINDERS = 10


def reminder_payload(reminder: Reminder, *, user_id: str, token: str) -> dict[str, Any]:
    return {
        "userId": user_id,
        "token": token,
        "messageId": reminder.message_id,
        "timestamp": timestamp(reminder.remind_at),
    }


def upcoming_reminders(*, user: User) -> list[dict[str, Any]]:
    """The user's next reminders (Talk: 10) still to come, of messages that have not expired in
    rooms the user is still in, soonest first: one query."""
    now = timezone.now()
    in_room = Attendee.objects.filter(
        room_id=OuterRef("message__room_id"), actor_type=Attendee.ACTOR_USERS, user_id=user.pk
    )
    reminders = (
        Reminder.objects.filter(user=user, remind_at__gte=now)
        .filter(Exists(in_room))
        .filter(Q(message__expires_at__isnull=True) | Q(message__expires_at__gt=now))
        .select_related("message", "message__room")
        .order_by("remind_at", "id")[:UPCOMING_REMINDERS]
    )
    result = []
    for reminder in reminders:
        message = reminder.message
        payload = message_payload(message, room_token=message.room.token, viewer_actor_id=user.username)
        result.append(
            {
                "reminderTimestamp": timestamp(reminder.remind_at),
                "roomToken": message.room.token,
                "messageId": message.pk,
                "actorType": payload["actorType"],
                "actorId": payload["actorId"],
                "actorDisplayName": payload["actorDisplayName"],
                "message": payload["message"],
                "messageParameters": payload["messageParameters"],
            }
        )
    return result
