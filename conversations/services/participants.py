"""Participants of a conversation: adding, removing, leaving."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Q

from accounts.models import User
from conversations.hooks import tree_rules
from conversations.models import Attendee, Conversation
from conversations.services.lifecycle import conversations_delete
from conversations.services.primitives import (
    Placement,
    attendees_add_bulk,
    attendees_remove_bulk,
    conversation_tree_lock,
    moderator_recheck,
    moderator_recheck_with_target,
    room_tree_lock,
)
from live.services import events_batch
from project.errors import BadRequest, Forbidden, NotFound


def _users_for_source(*, new_participant: str, source: str) -> list[User]:
    if source == "users":
        user = User.objects.filter(username=new_participant, is_active=True).first()
        if user is None:
            raise NotFound("new-participant")
        return [user]
    if source == "groups":
        group = Group.objects.filter(name=new_participant).first()
        if group is None:
            raise NotFound("new-participant")
        return list(User.objects.filter(groups=group, is_active=True).order_by("id"))
    raise BadRequest("source")


@transaction.atomic
@events_batch()
def participants_add(*, actor: User, room: Conversation, new_participant: str, source: str) -> list[Attendee]:
    """Add a user (``source`` users) or every member of a Django group (``source`` groups,
    decision 14) to a conversation as users (type 3); people already in it are left alone.
    Adding to a room with a parent follows the tree's rules (``hooks.TreeRules``)."""
    if room.parent_id is not None:
        if source != "users":
            raise BadRequest("source")
        user = _users_for_source(new_participant=new_participant, source=source)[0]
        try:
            parent = conversation_tree_lock(parent_id=room.parent_id)
        except Conversation.DoesNotExist:  # the parent was deleted while this request waited
            raise NotFound() from None
        room.parent = parent
        moderator_recheck(room=room, actor=actor)
        added = tree_rules().participant_add_to_child(actor=actor, room=room, user=user)
        if added is not None:
            return added
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    users = _users_for_source(new_participant=new_participant, source=source)
    # The parent's lock: a concurrent configure reads this room's attendee list.
    room = room_tree_lock(room)
    moderator_recheck(room=room, actor=actor)
    present = set(Attendee.objects.filter(room=room, user__in=[u.pk for u in users]).values_list("user_id", flat=True))
    placements = [Placement.of_user(u, room, Attendee.ParticipantType.USER) for u in users if u.pk not in present]
    return attendees_add_bulk(actor=actor, placements=placements)


def _remove_with_cascade(*, actor: User, room: Conversation, attendee: Attendee, change: str = "removed") -> None:
    """Remove ``attendee`` from ``room`` and whatever the tree's rules remove with it (decision 7:
    the same actor from every breakout room of a parent). The caller holds the tree lock."""
    rows = [attendee, *tree_rules().removal_cascade(room=room, attendee=attendee)]
    attendees_remove_bulk(actor=actor, attendees=rows, extra_rooms=[room], change=change)


@transaction.atomic
@events_batch()
def attendee_remove(*, actor: User, room: Conversation, attendee_id: int) -> None:
    """A moderator removes an attendee (Talk's removeAttendeeFromRoom). Removing oneself is
    leaving. Owners cannot be removed (403); a parent moderator cannot be removed from a breakout
    room (400 ``moderator``); removal from a parent cascades to its breakout rooms."""
    room = room_tree_lock(room)
    target = moderator_recheck_with_target(room=room, actor=actor, attendee_id=attendee_id)
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    if target.actor_type == Attendee.ACTOR_USERS and target.user_id == actor.pk:
        participant_leave(actor=actor, room=room)
        return
    if target.participant_type == Attendee.ParticipantType.OWNER:
        raise Forbidden()
    if room.is_breakout_room and tree_rules().attendee_protected_in_child(room=room, attendee=target):
        raise BadRequest("moderator")
    _remove_with_cascade(actor=actor, room=room, attendee=target)


@transaction.atomic
@events_batch()
def participant_leave(*, actor: User, room: Conversation) -> None:
    """The caller leaves (Talk's removeSelfFromRoom). The last owner/moderator cannot leave while
    other users remain (400 ``last-moderator``); the last user leaving deletes the conversation
    (with its breakout rooms); leaving a parent leaves its breakout rooms too. A parent moderator
    cannot leave a breakout room (400 ``moderator``)."""
    room = room_tree_lock(room)
    me = Attendee.objects.filter(room=room, actor_type=Attendee.ACTOR_USERS, user=actor).first()
    if me is None:
        raise NotFound()
    breakout_moderator = room.is_breakout_room and me.participant_type in Attendee.MODERATOR_TYPES
    if breakout_moderator and tree_rules().attendee_protected_in_child(room=room, attendee=me):
        raise BadRequest("moderator")
    counts = Attendee.objects.filter(room=room, actor_type=Attendee.ACTOR_USERS).aggregate(
        users=Count("id"), moderators=Count("id", filter=Q(participant_type__in=Attendee.MODERATOR_TYPES))
    )
    if room.type == Conversation.Type.ONE_TO_ONE:
        if counts["users"] <= 1:
            conversations_delete(Conversation.objects.filter(pk=room.pk))
        else:
            attendees_remove_bulk(actor=actor, attendees=[me], extra_rooms=[room], change="left")
        return
    if me.participant_type in Attendee.MODERATOR_TYPES and counts["users"] > 1 and counts["moderators"] == 1:
        raise BadRequest("last-moderator")
    if counts["users"] <= 1:
        conversations_delete(Conversation.objects.filter(pk=room.pk))
        return
    _remove_with_cascade(actor=actor, room=room, attendee=me, change="left")
