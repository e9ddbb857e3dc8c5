"""Creation and deletion of conversations (one-to-one, group, public, extra breakout rooms)."""

from __future__ import annotations

import contextlib
import json

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from accounts.models import User
from conversations.hooks import tree_rules
from conversations.models import Attendee, ChatMessage, Conversation, Poll, PollVote, Reaction, Reminder
from conversations.services.primitives import (
    TOKEN_ATTEMPTS,
    Placement,
    SystemMessage,
    attendees_add_bulk,
    conversations_create_bulk,
    moderator_recheck,
    room_tree_lock,
    system_messages_post,
)
from live.services import events_batch
from project.errors import BadRequest, NotFound

OBJECT_TYPE_BREAKOUT = "room"


ROOM_NAME_MAX_LENGTH = 255


def room_name_clean(name: str) -> str:
    """A conversation name as stored: trimmed, 1..255 characters (else 400 ``name``)."""
    name = name.strip()
    if not name or len(name) > ROOM_NAME_MAX_LENGTH:
        raise BadRequest("name")
    return name


def one_to_one_name(user_ids: list[str]) -> str:
    """Talk's name of a one-to-one conversation: the JSON list of the two sorted user ids."""
    return json.dumps(sorted(user_ids), separators=(",", ":"))


def _one_to_one_get_or_create(*, name: str) -> tuple[Conversation, bool]:
    """The one-to-one room called ``name``, created if missing. A concurrent creator blocks on the
    unique index until it commits; this insert then fails and the winner's room is read instead."""
    for _ in range(TOKEN_ATTEMPTS):
        room = Conversation.objects.filter(type=Conversation.Type.ONE_TO_ONE, name=name).first()
        if room is not None:
            return room, False
        try:
            with transaction.atomic():
                return Conversation.objects.create(type=Conversation.Type.ONE_TO_ONE, name=name), True
        except IntegrityError:
            continue  # the pair was created concurrently (read on the next turn), or a token collided
    raise IntegrityError("could not create the one-to-one conversation")


@transaction.atomic
@events_batch()
def conversation_create_one_to_one(*, actor: User, invite: str) -> tuple[Conversation, bool]:
    """The one-to-one conversation of ``actor`` and the user ``invite``, and whether it is new.

    One room per pair: the name is the sorted pair and a partial unique constraint refuses a
    second room of that name, so two concurrent requests cannot both create one; the loser of the
    race reads the winner's room. Both users are owners (type 1), as in Talk.
    """
    invitee = User.objects.filter(username=invite, is_active=True).first() if invite else None
    if invitee is None or invitee.pk == actor.pk:
        raise BadRequest("invite")
    name = one_to_one_name([actor.username, invitee.username])
    if len(name) > ROOM_NAME_MAX_LENGTH:
        # Two user ids of up to 150 characters each do not fit the name column that keeps the
        # pair unique; such a pair cannot have a one-to-one conversation.
        raise BadRequest("invite")
    room, created = _one_to_one_get_or_create(name=name)
    present = set(Attendee.objects.filter(room=room, user__in=[actor, invitee]).values_list("user_id", flat=True))
    placements = [
        Placement.of_user(user, room, Attendee.ParticipantType.OWNER)
        for user in (actor, invitee)
        if user.pk not in present
    ]
    if created:
        system_messages_post(
            actor=actor, messages=[SystemMessage(room_id=room.pk, key="conversation_created")], rooms=[room]
        )
    # A concurrent request may add the same missing rows; the state is then the same.
    with contextlib.suppress(IntegrityError), transaction.atomic():
        attendees_add_bulk(actor=actor, placements=placements, announce=False)
    return room, created


@transaction.atomic
@events_batch()
def conversation_create(
    *,
    actor: User,
    room_type: int,
    name: str,
    invite: str = "",
    source: str = "users",
) -> Conversation:
    """A new group (2) or public (3) conversation owned by ``actor`` (type 1), optionally with the
    user or the members of the group ``invite`` as attendees (type 3)."""
    if room_type not in (Conversation.Type.GROUP, Conversation.Type.PUBLIC):
        raise BadRequest("type")
    name = room_name_clean(name)
    invitees: list[User] = []
    if invite:
        if source == "groups":
            group = Group.objects.filter(name=invite).first()
            if group is None:
                raise BadRequest("invite")
            invitees = list(User.objects.filter(groups=group, is_active=True).exclude(pk=actor.pk).order_by("id"))
        elif source == "users":
            invitee = User.objects.filter(username=invite, is_active=True).first()
            if invitee is None:
                raise BadRequest("invite")
            invitees = [invitee] if invitee.pk != actor.pk else []
        else:
            raise BadRequest("source")
    room = conversations_create_bulk(rooms=[Conversation(type=room_type, name=name)])[0]
    system_messages_post(
        actor=actor, messages=[SystemMessage(room_id=room.pk, key="conversation_created")], rooms=[room]
    )
    placements = [Placement.of_user(actor, room, Attendee.ParticipantType.OWNER)]
    placements += [Placement.of_user(user, room, Attendee.ParticipantType.USER) for user in invitees]
    attendees_add_bulk(actor=actor, placements=placements)
    return room


def _extra_room_caller_check(*, parent: Conversation, actor: User) -> None:
    """The caller checks of an extra breakout room, in the reference's order: not an attendee of
    a parent they cannot see 400 ``room``, otherwise 400 ``permissions``; not a moderator 400
    ``permissions``."""
    caller = Attendee.objects.filter(room=parent, actor_type=Attendee.ACTOR_USERS, user=actor).first()
    if caller is None:
        if parent.type != Conversation.Type.PUBLIC and not parent.listable:
            raise BadRequest("room")
        raise BadRequest("permissions")
    if caller.participant_type not in Attendee.MODERATOR_TYPES:
        raise BadRequest("permissions")


@transaction.atomic
@events_batch()
def breakout_room_create_extra(*, actor: User, parent_token: str, name: str, object_type: str) -> Conversation:
    """An extra breakout room of a configured parent (contract 1.12 row 3, 4.1 "extra room",
    decision 8). Checks in the reference's order: ``room``, ``permissions`` (not an attendee),
    ``permissions`` (not a moderator), ``mode``, ``object`` (another object type), then the name.

    Under the parent's lock: the new room's lobby is on exactly when the parent is stopped, and
    every moderator of the parent becomes a moderator of the new room (the creator its owner).
    """
    if object_type != OBJECT_TYPE_BREAKOUT:
        raise BadRequest("object")
    parent = Conversation.objects.filter(token=parent_token).first()
    if parent is None:
        raise BadRequest("room")
    _extra_room_caller_check(parent=parent, actor=actor)
    # Lock the tree before reading the mode and status: a concurrent remove, start or stop of the
    # parent's breakout rooms must not interleave with the creation of this one. The parent and
    # the caller's role are read again under the lock: a deletion, removal or demotion may have
    # committed while this request waited.
    try:
        parent = room_tree_lock(parent)
    except NotFound:
        raise BadRequest("room") from None
    _extra_room_caller_check(parent=parent, actor=actor)
    if parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED or parent.parent_id is not None:
        raise BadRequest("mode")
    name = room_name_clean(name)
    tree_rules().child_name_check(parent=parent, name=name)
    stopped = parent.breakout_room_status == Conversation.BreakoutStatus.STOPPED
    room = conversations_create_bulk(
        rooms=[
            Conversation(
                type=parent.type,
                name=name,
                parent=parent,
                lobby_state=Conversation.Lobby.NON_MODERATORS if stopped else Conversation.Lobby.NONE,
            )
        ]
    )[0]
    room.parent = parent
    system_messages_post(
        actor=actor, messages=[SystemMessage(room_id=room.pk, key="conversation_created")], rooms=[room]
    )
    placements = [Placement.of_user(actor, room, Attendee.ParticipantType.OWNER)]
    placements += tree_rules().child_room_members(actor=actor, room=room)
    attendees_add_bulk(actor=actor, placements=placements)
    tree_rules().child_rooms_created(parent=parent, rooms=[room])
    return room


@transaction.atomic
def conversation_delete(*, actor: User, room: Conversation) -> None:
    """Delete a conversation with its attendees and chat. A parent takes its breakout rooms with
    it (FK cascade, decision 7); deleting a breakout room leaves the parent's mode and status.
    Under the tree lock, so that no concurrent configure or switch writes rows into rooms being
    deleted; the caller's role is read again under it."""
    room = room_tree_lock(room)
    moderator_recheck(room=room, actor=actor)
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    conversations_delete(Conversation.objects.filter(pk=room.pk))


def conversations_delete(rooms: QuerySet[Conversation]) -> None:
    """Delete the conversations ``rooms`` with their breakout rooms and everything of theirs:
    Django's cascading delete (attendees, chat, pictures, rounds, timers, ...) after
    ``conversation_leftovers_delete``. Call it in the caller's transaction, under the tree lock."""
    conversation_leftovers_delete(rooms)
    rooms.delete()


def conversation_leftovers_delete(rooms: QuerySet[Conversation]) -> None:
    """Delete the rows that a deletion of the conversations ``rooms`` (their breakout rooms
    included) would otherwise leave behind: their messages' reactions and reminders, their polls
    and the polls' votes. Four statements whatever the number of rooms, messages or rows, each a
    DELETE with a subquery on the rooms' ids; call it in the deleting transaction, under the tree
    lock, before the chat and the rooms themselves are deleted (the subqueries go through them).

    ``Reaction.message``, ``Reminder.message`` and ``Poll.room`` keep no database constraint and
    no ORM cascade: the raw DELETEs of rooms and chat (breakout rooms, cleared history) stay one
    statement each in any order, and Django's cascading delete of a conversation does not load
    these rows to delete them in batches. Every deletion of conversations calls this instead."""
    room_ids = rooms.values("pk")
    room_ids = Conversation.objects.filter(Q(pk__in=room_ids) | Q(parent_id__in=room_ids)).values("pk")
    message_ids = ChatMessage.objects.filter(room_id__in=room_ids).values("pk")
    Reaction.objects.filter(message_id__in=message_ids).delete()
    Reminder.objects.filter(message_id__in=message_ids).delete()
    poll_ids = Poll.objects.filter(room_id__in=room_ids).values("pk")
    PollVote.objects.filter(poll_id__in=poll_ids).delete()  # their constraint: before the polls
    polls = Poll.objects.filter(room_id__in=room_ids)
    polls._raw_delete(polls.db)  # a plain delete() would load the polls to cascade to the votes
