"""Moderators of a conversation: promotion and demotion."""

from __future__ import annotations

from django.db import transaction

from conversations.models import Attendee, Conversation, User
from conversations.services.participants import attendee_in_room, is_parent_moderator
from conversations.services.primitives import (
    Placement,
    SystemMessage,
    attendees_add_bulk,
    attendees_remove_bulk,
    rich_user,
    room_tree_lock,
    system_messages_post,
)
from project.errors import BadRequest, Forbidden

MODERATOR_TYPES = tuple(int(t) for t in Attendee.MODERATOR_TYPES)
STUDENT_TYPES = tuple(int(t) for t in Attendee.STUDENT_TYPES)


def _participant_type_change(*, actor: User, room: Conversation, attendee_id: int, promote: bool) -> Attendee:
    """Talk's changeParticipantType: unknown attendee 404, oneself 403, groups 400, already in the
    wanted state 400, owners and self-joined users 403."""
    room = room_tree_lock(room)
    target = attendee_in_room(room=room, attendee_id=attendee_id)
    if target.actor_type == Attendee.ACTOR_USERS and target.user_id == actor.pk:
        raise Forbidden()
    if target.actor_type == Attendee.ACTOR_GROUPS:
        raise BadRequest()
    if promote == target.is_moderator:
        raise BadRequest()
    new_types: dict[int, int] = {
        Attendee.ParticipantType.USER: Attendee.ParticipantType.MODERATOR,
        Attendee.ParticipantType.MODERATOR: Attendee.ParticipantType.USER,
        Attendee.ParticipantType.GUEST: Attendee.ParticipantType.GUEST_MODERATOR,
        Attendee.ParticipantType.GUEST_MODERATOR: Attendee.ParticipantType.GUEST,
    }
    new_type = new_types.get(target.participant_type)
    if new_type is None:
        raise Forbidden()
    if not promote and room.is_breakout_room and is_parent_moderator(room=room, attendee=target):
        raise BadRequest("moderator")
    Attendee.objects.filter(pk=target.pk).update(participant_type=new_type)
    old_type = target.participant_type
    target.participant_type = new_type
    key = "moderator_promoted" if promote else "moderator_demoted"
    user_param = rich_user(target.actor_id, target.display_name)
    system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=key, user=user_param)])
    configured_parent = (
        not room.is_breakout_room and room.breakout_room_mode != Conversation.BreakoutMode.NOT_CONFIGURED
    )
    if configured_parent and (old_type in MODERATOR_TYPES) != (new_type in MODERATOR_TYPES):
        _propagate_moderator_change(actor=actor, parent=room, attendee=target)
    return target


def _propagate_moderator_change(*, actor: User, parent: Conversation, attendee: Attendee) -> None:
    """Contract 4.4, in a constant number of queries: a promoted parent attendee becomes a
    moderator in every breakout room (students there promoted, absent rooms joined with the new
    parent type); a demoted one leaves every breakout room."""
    rows = list(
        Attendee.objects.filter(
            breakout_parent=parent, actor_type=attendee.actor_type, actor_id=attendee.actor_id
        ).order_by("id")
    )
    if attendee.participant_type not in MODERATOR_TYPES:
        attendees_remove_bulk(actor=actor, attendees=rows)
        return
    students = [row for row in rows if row.participant_type in STUDENT_TYPES]
    if students:
        Attendee.objects.filter(pk__in=[row.pk for row in students]).update(
            participant_type=Attendee.ParticipantType.MODERATOR
        )
        user_param = rich_user(attendee.actor_id, attendee.display_name)
        messages = [SystemMessage(room_id=row.room_id, key="moderator_promoted", user=user_param) for row in students]
        system_messages_post(actor=actor, messages=messages)
    present = {row.room_id for row in rows}
    missing = Conversation.objects.filter(parent=parent).exclude(pk__in=present).order_by("id")
    placements = [Placement.of_attendee(attendee, breakout_room) for breakout_room in missing]
    attendees_add_bulk(actor=actor, placements=placements)


@transaction.atomic
def attendee_promote(*, actor: User, room: Conversation, attendee_id: int) -> Attendee:
    """Promote an attendee to moderator. In a configured parent the promotion reaches every
    breakout room (4.4), under the parent's lock, so every parent moderator is a moderator in each
    breakout room; in a breakout room it affects only that room."""
    return _participant_type_change(actor=actor, room=room, attendee_id=attendee_id, promote=True)


@transaction.atomic
def attendee_demote(*, actor: User, room: Conversation, attendee_id: int) -> Attendee:
    """Demote a moderator to user. In a configured parent the demoted user leaves every breakout
    room (4.4); in a breakout room demoting a parent moderator is refused (400 ``moderator``)."""
    return _participant_type_change(actor=actor, room=room, attendee_id=attendee_id, promote=False)
