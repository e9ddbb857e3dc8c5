"""Polls (Talk's poll API v1): create, vote, close. Talk answers this API's failures without an
error key (``data: []``).

A poll is shared into the chat as Talk shares objects: a comment ``{object}`` whose parameter is
the poll. Votes of public polls post ``poll_voted``, closing posts ``poll_closed``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from conversations.models import Attendee, ChatMessage, Conversation, Poll, PollVote
from conversations.services.chat import TRIM_CHARACTERS
from conversations.services.chat_guards import attendee_relock, chat_write_check
from conversations.services.primitives import chat_events_add, rich_user, rooms_touch
from project.errors import BadRequest, Forbidden, NotFoundInRoom

QUESTION_MAX_LENGTH = 32000
OPTION_MAX_LENGTH = 32000
OPTIONS_MIN = 2
POLL_TYPES = (Conversation.Type.GROUP, Conversation.Type.PUBLIC)
POLL_ID_MAX = 2**63 - 1


def poll_object(poll: Poll) -> dict[str, str]:
    """Talk's rich object of a poll."""
    return {"type": "talk-poll", "id": str(poll.pk), "name": poll.question}


def _post(*, attendee: Attendee, poll: Poll, system_message: str = "") -> None:
    now = timezone.now()
    is_share = not system_message
    created = ChatMessage.objects.create(
        room=attendee.room,
        actor_type=attendee.actor_type,
        actor_id=attendee.actor_id,
        actor_display_name=attendee.display_name,
        message_type=ChatMessage.Type.COMMENT if is_share else ChatMessage.Type.SYSTEM,
        system_message=system_message,
        message="{object}" if is_share else "",
        parameters={
            "actor": rich_user(attendee.actor_id, attendee.display_name),
            ("object" if is_share else "poll"): poll_object(poll),
        },
        created_at=now,
    )
    rooms_touch(room_ids=[attendee.room_id], now=now)
    chat_events_add(messages=[created], actor_id=attendee.actor_id, rooms=[attendee.room])


@transaction.atomic
def poll_create(*, attendee: Attendee, question: str, options: Sequence[str], result_mode: int, max_votes: int) -> Poll:
    """Create a poll in a group or public conversation and share it into the chat. 400 for another
    conversation type, an empty or too long question, fewer than two options, an empty or too
    long option, an unknown result mode or a negative or too large vote maximum."""
    attendee = attendee_relock(attendee)
    room = chat_write_check(attendee)
    if room.type not in POLL_TYPES:
        raise BadRequest()
    question = question.strip(TRIM_CHARACTERS)
    cleaned = [option.strip(TRIM_CHARACTERS) for option in options]
    if not question or len(question) > QUESTION_MAX_LENGTH:
        raise BadRequest()
    if len(cleaned) < OPTIONS_MIN or any(not option or len(option) > OPTION_MAX_LENGTH for option in cleaned):
        raise BadRequest()
    if result_mode not in Poll.ResultMode.values or not 0 <= max_votes <= len(cleaned):
        raise BadRequest()
    poll = Poll.objects.create(
        room=room,
        question=question,
        options=cleaned,
        actor_type=attendee.actor_type,
        actor_id=attendee.actor_id,
        actor_display_name=attendee.display_name,
        result_mode=result_mode,
        max_votes=max_votes,
    )
    _post(attendee=attendee, poll=poll)
    return poll


def _poll_of_room(*, room: Conversation, poll_id: int, for_update: bool = False) -> Poll:
    if not 0 < poll_id <= POLL_ID_MAX:
        raise NotFoundInRoom()
    queryset = Poll.objects.filter(room=room, pk=poll_id)
    poll = (queryset.select_for_update() if for_update else queryset).first()
    if poll is None:
        raise NotFoundInRoom()
    return poll


def poll_get(*, attendee: Attendee, poll_id: int) -> Poll:
    return _poll_of_room(room=attendee.room, poll_id=poll_id)


@transaction.atomic
def poll_vote(*, attendee: Attendee, poll_id: int, option_ids: Sequence[int]) -> Poll:
    """Replace the caller's votes on an open poll by ``option_ids`` (none: withdraw). 400 for a
    closed poll, an unknown or repeated option, or more options than ``maxVotes`` allows."""
    attendee = attendee_relock(attendee)  # serialises the votes of the room: the counts stay exact
    poll = _poll_of_room(room=attendee.room, poll_id=poll_id, for_update=True)
    if poll.status == Poll.Status.CLOSED:
        raise BadRequest()
    choices = list(option_ids)
    if len(set(choices)) != len(choices) or any(not 0 <= option < len(poll.options) for option in choices):
        raise BadRequest()
    if poll.max_votes and len(choices) > poll.max_votes:
        raise BadRequest()
    mine = PollVote.objects.filter(poll=poll, actor_type=attendee.actor_type, actor_id=attendee.actor_id)
    mine.delete()
    PollVote.objects.bulk_create(
        PollVote(
            poll=poll,
            actor_type=attendee.actor_type,
            actor_id=attendee.actor_id,
            actor_display_name=attendee.display_name,
            option_id=option,
        )
        for option in choices
    )
    counts = PollVote.objects.filter(poll=poll).values("option_id").annotate(count=Count("id")).order_by("option_id")
    poll.votes = {f"option-{row['option_id']}": row["count"] for row in counts}
    poll.num_voters = PollVote.objects.filter(poll=poll).values("actor_type", "actor_id").distinct().order_by().count()
    poll.save(update_fields=["votes", "num_voters"])
    if choices and poll.result_mode == Poll.ResultMode.PUBLIC:
        _post(attendee=attendee, poll=poll, system_message="poll_voted")
    return poll


@transaction.atomic
def poll_close(*, attendee: Attendee, poll_id: int) -> Poll:
    """Close an open poll (its author or a moderator: 403 otherwise; already closed: 400) and post
    ``poll_closed``."""
    attendee = attendee_relock(attendee)
    poll = _poll_of_room(room=attendee.room, poll_id=poll_id, for_update=True)
    if poll.status == Poll.Status.CLOSED:
        raise BadRequest()
    own = poll.actor_type == attendee.actor_type and poll.actor_id == attendee.actor_id
    if not own and not attendee.is_moderator:
        raise Forbidden()
    poll.status = Poll.Status.CLOSED
    poll.save(update_fields=["status"])
    _post(attendee=attendee, poll=poll, system_message="poll_closed")
    return poll
