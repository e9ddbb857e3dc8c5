"""The breakout rules of the conversation endpoints (contract 1.12, 4.4, 4.5), registered with
``conversations.hooks`` by ``BreakoutConfig.ready()``:

- Promotion or demotion in a configured parent propagates to every breakout room (4.4), in bulk.
- Inside a breakout room a promotion affects only that room. Demoting or removing someone who is
  a moderator of the PARENT inside a breakout room is refused with 400 ``moderator``, and so is a
  parent moderator leaving a breakout room: either would break the invariant "every moderator of
  a parent is a moderator in each of its breakout rooms".
- Adding someone to a breakout room adds them to the parent first and takes them out of the
  parent's other breakout rooms; a parent moderator is added with their parent type, never as a
  student. Re-adding a student to the room they are already in is a no-op (decision 9).
- Removal from a parent cascades to its breakout rooms (decision 7).
- A breakout room's lobby, listable scope, message expiration and password are not settable, and
  neither breakout rooms nor configured parents can become public.
- Every moderator of the parent joins an extra breakout room created through POST /v4/room.

The conversation services call these with the tree lock held (parent row first).
"""

from __future__ import annotations

from accounts.models import User
from bots.services import bots_inherit
from breakout.services import rounds
from conversations.hooks import RoomSetting, TreeRules
from conversations.models import Attendee, Conversation
from conversations.services.primitives import (
    Placement,
    SystemMessage,
    attendees_add_bulk,
    attendees_remove_bulk,
    participants_events_add,
    rich_user,
    room_tokens,
    system_messages_post,
)
from project.errors import BadRequest


def _is_configured_parent(room: Conversation) -> bool:
    return not room.is_breakout_room and room.breakout_room_mode != Conversation.BreakoutMode.NOT_CONFIGURED


def is_parent_moderator(*, room: Conversation, attendee: Attendee) -> bool:
    """Whether ``attendee`` of the breakout room ``room`` is an owner/moderator of its parent."""
    return Attendee.objects.filter(
        room_id=room.parent_id,
        actor_type=attendee.actor_type,
        actor_id=attendee.actor_id,
        participant_type__in=Attendee.MODERATOR_TYPES,
    ).exists()


def breakout_room_participant_add(
    *, actor: User, parent: Conversation, room: Conversation, user: User
) -> list[Attendee]:
    """Put ``user`` into the breakout room ``room`` of ``parent`` (contract 1.12 "add
    participant"): into the parent first when missing (type 3), out of the parent's other
    breakout rooms, then into this one with type 3. A parent moderator is added with their parent
    type and stays in every room. The caller holds the parent's lock.

    Keeps "a student is in at most one breakout room of a parent" and "every parent moderator is
    a moderator in each breakout room". Re-adding a student to the room they are in changes
    nothing (decision 9).
    """
    parent_attendee = Attendee.objects.filter(room=parent, actor_type=Attendee.ACTOR_USERS, user=user).first()
    added: list[Attendee] = []
    if parent_attendee is None:
        added += attendees_add_bulk(
            actor=actor, placements=[Placement.of_user(user, parent, Attendee.ParticipantType.USER)]
        )
    in_breakout_rooms = list(
        Attendee.objects.filter(breakout_parent=parent, actor_type=Attendee.ACTOR_USERS, user=user).order_by("id")
    )
    if parent_attendee is not None and parent_attendee.participant_type in Attendee.MODERATOR_TYPES:
        if any(a.room_id == room.pk for a in in_breakout_rooms):
            raise BadRequest("moderator")
        placement = Placement.of_user(user, room, parent_attendee.participant_type)
        return added + attendees_add_bulk(actor=actor, placements=[placement])
    if any(a.participant_type in Attendee.MODERATOR_PERMISSION_TYPES for a in in_breakout_rooms):
        raise BadRequest("moderator")
    if any(a.room_id == room.pk for a in in_breakout_rooms):
        return added
    attendees_remove_bulk(actor=actor, attendees=in_breakout_rooms)
    placed = attendees_add_bulk(actor=actor, placements=[Placement.of_user(user, room, Attendee.ParticipantType.USER)])
    rounds.spans_students_added(parent=parent, parent_row=parent_attendee or added[0], room=room)
    return added + placed


def moderator_change_propagate(*, actor: User, parent: Conversation, attendee: Attendee) -> None:
    """Contract 4.4, in a constant number of queries: a promoted parent attendee becomes a
    moderator in every breakout room (students there promoted, absent rooms joined with the new
    parent type); a demoted one leaves every breakout room."""
    rows = list(
        Attendee.objects.filter(breakout_parent=parent, actor_type=attendee.actor_type, actor_id=attendee.actor_id)
        .select_related("room__parent")  # the rooms' tokens for the events, without a query
        .order_by("id")
    )
    if attendee.participant_type not in Attendee.MODERATOR_TYPES:
        attendees_remove_bulk(actor=actor, attendees=rows)
        return
    # Every breakout room, loaded once: their tokens serve the events of the steps below.
    breakout_rooms = list(Conversation.objects.filter(parent=parent).order_by("id"))
    for breakout_room in breakout_rooms:
        breakout_room.parent = parent
    tokens = room_tokens(room_ids=[r.pk for r in breakout_rooms], rooms=breakout_rooms)
    students = [row for row in rows if row.participant_type in Attendee.STUDENT_TYPES]
    if students:
        Attendee.objects.filter(pk__in=[row.pk for row in students]).update(
            participant_type=Attendee.ParticipantType.MODERATOR
        )
        user_param = rich_user(attendee.actor_id, attendee.display_name)
        messages = [SystemMessage(room_id=row.room_id, key="moderator_promoted", user=user_param) for row in students]
        system_messages_post(actor=actor, messages=messages, tokens=tokens)
        participants_events_add(attendees=students, change="promoted", actor=actor, tokens=tokens)
    present = {row.room_id for row in rows}
    placements = [Placement.of_attendee(attendee, room) for room in breakout_rooms if room.pk not in present]
    attendees_add_bulk(actor=actor, placements=placements)


class BreakoutTreeRules(TreeRules):
    def setting_change_check(self, *, room: Conversation, setting: RoomSetting, enable: bool = True) -> None:
        if setting == RoomSetting.PASSWORD:
            if room.is_breakout_room:  # decision 5
                raise BadRequest("type")
        elif setting == RoomSetting.PUBLIC:
            # A parent must stay a group conversation, and so must its breakout rooms.
            if enable and (room.is_breakout_room or _is_configured_parent(room)):
                raise BadRequest("breakout-room")
        elif room.is_breakout_room:
            # A breakout room's lobby follows its parent's status (start/stop only).
            raise BadRequest("breakout-room")

    def participant_add_to_child(self, *, actor: User, room: Conversation, user: User) -> list[Attendee] | None:
        if room.parent is None:
            return None
        return breakout_room_participant_add(actor=actor, parent=room.parent, room=room, user=user)

    def attendee_protected_in_child(self, *, room: Conversation, attendee: Attendee) -> bool:
        return is_parent_moderator(room=room, attendee=attendee)

    def removal_cascade(self, *, room: Conversation, attendee: Attendee) -> list[Attendee]:
        # Called right before the removal: the actor's open spans in the tree close with it.
        rounds.spans_removed(room=room, attendee=attendee)
        if room.is_breakout_room:
            return []
        return list(
            Attendee.objects.filter(breakout_parent=room, actor_type=attendee.actor_type, actor_id=attendee.actor_id)
            .select_related("room__parent")  # the rooms' tokens for the events, without a query
            .order_by("id")
        )

    def participant_type_changed(self, *, actor: User, room: Conversation, attendee: Attendee, old_type: int) -> None:
        if _is_configured_parent(room) and (old_type in Attendee.MODERATOR_TYPES) != (
            attendee.participant_type in Attendee.MODERATOR_TYPES
        ):
            moderator_change_propagate(actor=actor, parent=room, attendee=attendee)

    def child_rooms_created(self, *, parent: Conversation, rooms: list[Conversation]) -> None:
        bots_inherit(rooms=rooms, parent=parent)  # decision: breakout rooms get the parent's bots

    def child_room_members(self, *, actor: User, room: Conversation) -> list[Placement]:
        moderators = (
            Attendee.objects.filter(
                room_id=room.parent_id,
                actor_type=Attendee.ACTOR_USERS,
                participant_type__in=Attendee.MODERATOR_TYPES,
                user__isnull=False,
            )
            .exclude(user=actor)
            .order_by("id")
        )
        return [Placement.of_attendee(moderator, room) for moderator in moderators]

    def child_name_check(self, *, parent: Conversation, name: str, room: Conversation | None = None) -> None:
        """Breakout room names are unique within their parent (extension breakout-rooms-names),
        for extra rooms and renames too: 400 ``name``. One query."""
        siblings = Conversation.objects.filter(parent_id=parent.pk, name=name)
        if room is not None:
            siblings = siblings.exclude(pk=room.pk)
        if siblings.exists():
            raise BadRequest("name")

    def tree_end_reached(self, *, root: Conversation) -> Conversation:
        from breakout.services.timers import timer_end_reached

        return timer_end_reached(root=root)
