"""Reactions to chat comments (Talk's reaction API v1).

Talk answers the failures of this API without an error key (``data: []``): 400 for a reaction
that is not an emoji or a message that cannot carry reactions, 404 for an unknown message (and,
when removing, an unknown reaction).

As in Talk, a reaction is also a hidden system message answering the comment: ``reaction`` (its
text the emoji) when added; when removed that message becomes ``reaction_deleted`` and
``reaction_revoked`` is posted. Clients waiting on the chat (``lookIntoFuture``) thus receive the
comment with its new reactions as the ``parent`` of that message. Each change also records a
``chat.message`` event (waking the long polls) and a ``chat.reaction`` event
(``messageId``, ``reaction``, ``added``) for the event stream and integrations."""

from __future__ import annotations

import unicodedata

from django.db import transaction
from django.db.models import Count, Min

from conversations.models import Attendee, ChatMessage, Conversation, Reaction
from conversations.services.chat import chat_system_message_post
from conversations.services.chat_guards import attendee_relock, chat_write_check, visible_comment
from live.services import NewEvent, events_add, events_batch
from project.errors import BadRequest, NotFound, NotFoundInRoom

# An emoji with its modifiers, joiners and variation selectors (a family, a flag) is a handful of
# code points; 32 is generous and keeps arbitrary text out.
REACTION_MAX_CODE_POINTS = 32
# Letters, digits, punctuation, separators and control characters are not emoji.
_NOT_EMOJI_CATEGORIES = ("L", "N", "P", "Z", "C")
_EMOJI_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}


def reaction_validate(reaction: str) -> str:
    """A single emoji (400 otherwise): no letters, digits, punctuation or spaces; the joiners and
    variation selectors of composed emoji are allowed."""
    if not reaction or len(reaction) > REACTION_MAX_CODE_POINTS:
        raise BadRequest()
    for character in reaction:
        if character in _EMOJI_JOINERS:
            continue
        if unicodedata.category(character).startswith(_NOT_EMOJI_CATEGORIES):
            raise BadRequest()
    return reaction


def _reaction_posted(*, attendee: Attendee, message: ChatMessage, reaction: str, added: bool) -> None:
    """Talk's hidden system message of a reaction change (see the module docstring) and the
    change's events."""
    if not added:
        ChatMessage.objects.filter(
            room_id=attendee.room_id,
            reply_to=message,
            message_type=ChatMessage.Type.SYSTEM,
            system_message="reaction",
            actor_type=attendee.actor_type,
            actor_id=attendee.actor_id,
            message=reaction,
        ).update(system_message="reaction_deleted", message="")
    chat_system_message_post(
        attendee=attendee,
        key="reaction" if added else "reaction_revoked",
        reply_to=message,
        message=reaction if added else "",
    )
    reaction_event_add(
        room=attendee.room, actor_id=attendee.actor_id, message_id=message.pk, reaction=reaction, added=added
    )


def reaction_event_add(*, room: Conversation, actor_id: str, message_id: int, reaction: str, added: bool) -> None:
    """The ``chat.reaction`` event of a reaction added to or removed from a comment of ``room``."""
    events_add(
        events=[
            NewEvent(
                type="chat.reaction",
                token=room.token,
                parent_token=room.parent.token if room.parent is not None else None,
                actor_id=actor_id,
                payload={"messageId": message_id, "reaction": reaction, "added": added},
            )
        ]
    )


@transaction.atomic
@events_batch()
def reaction_add(*, attendee: Attendee, message_id: int, reaction: str) -> bool:
    """React with ``reaction`` to a comment of the caller's room. True when it was added, False
    when the caller had already reacted so (Talk answers 200 instead of 201). System messages and
    deleted comments carry no reactions (400)."""
    reaction = reaction_validate(reaction)
    attendee = attendee_relock(attendee)  # a removal or lobby switch racing the reaction
    chat_write_check(attendee)
    message = visible_comment(room=attendee.room, message_id=message_id, not_comment=BadRequest)
    # The tree lock serialises this actor's reactions; the unique constraint backs it up.
    _, created = Reaction.objects.get_or_create(
        message=message,
        actor_type=attendee.actor_type,
        actor_id=attendee.actor_id,
        reaction=reaction,
        defaults={"actor_display_name": attendee.display_name},
    )
    if created:
        reaction_counts_refresh(message)
        _reaction_posted(attendee=attendee, message=message, reaction=reaction, added=True)
    return created


@transaction.atomic
@events_batch()
def reaction_remove(*, attendee: Attendee, message_id: int, reaction: str) -> None:
    """Remove the caller's ``reaction`` from a comment (404 when they had not reacted so)."""
    attendee = attendee_relock(attendee)
    chat_write_check(attendee)
    message = visible_comment(room=attendee.room, message_id=message_id, not_comment=NotFound)
    deleted, _ = Reaction.objects.filter(
        message=message, actor_type=attendee.actor_type, actor_id=attendee.actor_id, reaction=reaction
    ).delete()
    if not deleted:
        raise NotFoundInRoom()
    reaction_counts_refresh(message)
    _reaction_posted(attendee=attendee, message=message, reaction=reaction, added=False)


def reaction_counts_refresh(message: ChatMessage) -> None:
    """Recount the message's reactions into ``ChatMessage.reactions`` (emoji in the order they
    were first used); the caller holds the tree lock, so no reaction of the room changes meanwhile."""
    rows = (
        Reaction.objects.filter(message=message)
        .values("reaction")
        .annotate(count=Count("id"), first=Min("id"))
        .order_by("first")
    )
    message.reactions = {row["reaction"]: row["count"] for row in rows}
    message.save(update_fields=["reactions"])
