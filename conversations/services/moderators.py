"""Moderators of a conversation: promotion and demotion."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from conversations.hooks import tree_rules
from conversations.models import Attendee, Conversation
from conversations.services.primitives import (
    SystemMessage,
    moderator_recheck_with_target,
    participants_events_add,
    rich_user,
    room_tree_lock,
    system_messages_post,
)
from live.services import events_batch
from project.errors import BadRequest, Forbidden


def _participant_type_change(*, actor: User, room: Conversation, attendee_id: int, promote: bool) -> Attendee:
    """Talk's changeParticipantType: unknown attendee 404, oneself 403, groups 400, already in the
    wanted state 400, owners and self-joined users 403."""
    room = room_tree_lock(room)
    target = moderator_recheck_with_target(room=room, actor=actor, attendee_id=attendee_id)
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
    if not promote and room.is_breakout_room and tree_rules().attendee_protected_in_child(room=room, attendee=target):
        raise BadRequest("moderator")
    Attendee.objects.filter(pk=target.pk).update(participant_type=new_type)
    old_type = target.participant_type
    target.participant_type = new_type
    key = "moderator_promoted" if promote else "moderator_demoted"
    user_param = rich_user(target.actor_id, target.display_name)
    system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=key, user=user_param)], rooms=[room])
    participants_events_add(attendees=[target], change="promoted" if promote else "demoted", actor=actor, rooms=[room])
    tree_rules().participant_type_changed(actor=actor, room=room, attendee=target, old_type=old_type)
    return target


@transaction.atomic
@events_batch()
def attendee_promote(*, actor: User, room: Conversation, attendee_id: int) -> Attendee:
    """Promote an attendee to moderator. In a configured parent the promotion reaches every
    breakout room (4.4), under the parent's lock, so every parent moderator is a moderator in each
    breakout room; in a breakout room it affects only that room."""
    return _participant_type_change(actor=actor, room=room, attendee_id=attendee_id, promote=True)


@transaction.atomic
@events_batch()
def attendee_demote(*, actor: User, room: Conversation, attendee_id: int) -> Attendee:
    """Demote a moderator to user. In a configured parent the demoted user leaves every breakout
    room (4.4); in a breakout room demoting a parent moderator is refused (400 ``moderator``)."""
    return _participant_type_change(actor=actor, room=room, attendee_id=attendee_id, promote=False)
