"""Writes on conversations, their participants and moderators, including the breakout-specific
rules of the conversation endpoints (contract 1.12, 4.4, 4.5).

Decisions of this project on the conversation side (the README lists them):

- Promotion or demotion in a configured parent propagates to every breakout room (4.4), in bulk.
- Inside a breakout room a promotion affects only that room. Demoting or removing (DELETE
  attendees) someone who is a moderator of the PARENT inside a breakout room is refused with 400
  ``moderator``, and so is a parent moderator leaving a breakout room through participants/self:
  either would break the invariant "every moderator of a parent is a moderator in each of its
  breakout rooms".
- Adding a parent moderator to a breakout room via POST participants adds them with their parent
  type (1/2), never as a student.
- Re-adding a student to the breakout room they are already in is a no-op (decision 9).

Every write that touches a parent and its breakout rooms first locks the root of the tree with
``conversation_tree_lock`` (lock order: parent row, then rooms, then attendees), so that two
workers cannot interleave a promotion with a demotion, a reorganize or a switch.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.serializers import rich_user
from conversations.services.primitives import (
    TOKEN_ATTEMPTS,
    Placement,
    SystemMessage,
    attendees_add_bulk,
    attendees_remove_bulk,
    conversation_tree_lock,
    conversations_create_bulk,
    system_messages_post,
)
from project.errors import BadRequest, Forbidden, NotFound

ROOM_NAME_MAX_LENGTH = 255
DESCRIPTION_MAX_LENGTH = 2000
CREATABLE_TYPES = (Conversation.Type.ONE_TO_ONE, Conversation.Type.GROUP, Conversation.Type.PUBLIC)
OBJECT_TYPE_BREAKOUT = "room"
MODERATOR_TYPES = tuple(int(t) for t in Attendee.MODERATOR_TYPES)
MODERATOR_PERMISSION_TYPES = tuple(int(t) for t in Attendee.MODERATOR_PERMISSION_TYPES)
STUDENT_TYPES = tuple(int(t) for t in Attendee.STUDENT_TYPES)
# The column is a positive 32-bit integer on every database.
MESSAGE_EXPIRATION_MAX_SECONDS = 2**31 - 1
LISTABLE_MESSAGES = {0: "listable_none", 1: "listable_users", 2: "listable_all"}


def _tree_lock(room: Conversation) -> Conversation:
    """Lock the root of ``room``'s tree (its parent, or the room itself) and return ``room`` as it
    is now, read under the lock. Callers must continue with the returned row: the one they were
    given was read before the lock and may be stale (a configure may have committed meanwhile)."""
    root = conversation_tree_lock(parent_id=room.parent_id or room.pk)
    if root.pk == room.pk:
        return root
    return Conversation.objects.select_related("parent").get(pk=room.pk)


def datetime_from_timestamp(value: int, *, error: str) -> datetime:
    """A unix timestamp as an aware datetime; negative or out-of-range values are 400 ``error``."""
    if value < 0:
        raise BadRequest(error)
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(error) from None


def _valid_room_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > ROOM_NAME_MAX_LENGTH:
        raise BadRequest("name")
    return name


def one_to_one_name(user_ids: list[str]) -> str:
    """Talk's name of a one-to-one conversation: the JSON list of the two sorted user ids."""
    return json.dumps(sorted(user_ids), separators=(",", ":"))


# --- creation -------------------------------------------------------------------------------


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
        system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key="conversation_created")])
    # A concurrent request may add the same missing rows; the state is then the same.
    with contextlib.suppress(IntegrityError), transaction.atomic():
        attendees_add_bulk(actor=actor, placements=placements, announce=False)
    return room, created


@transaction.atomic
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
    name = _valid_room_name(name)
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
    system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key="conversation_created")])
    placements = [Placement.of_user(actor, room, Attendee.ParticipantType.OWNER)]
    placements += [Placement.of_user(user, room, Attendee.ParticipantType.USER) for user in invitees]
    attendees_add_bulk(actor=actor, placements=placements)
    return room


@transaction.atomic
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
    caller = Attendee.objects.filter(room=parent, actor_type=Attendee.ACTOR_USERS, user=actor).first()
    if caller is None:
        if parent.type != Conversation.Type.PUBLIC and not parent.listable:
            raise BadRequest("room")
        raise BadRequest("permissions")
    if caller.participant_type not in MODERATOR_TYPES:
        raise BadRequest("permissions")
    # Lock the tree before reading the mode and status: a concurrent remove, start or stop of the
    # parent's breakout rooms must not interleave with the creation of this one.
    parent = conversation_tree_lock(parent_id=parent.pk)
    if parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED or parent.parent_id is not None:
        raise BadRequest("mode")
    name = _valid_room_name(name)
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
    system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key="conversation_created")])
    moderators = (
        Attendee.objects.filter(
            room=parent, actor_type=Attendee.ACTOR_USERS, participant_type__in=MODERATOR_TYPES, user__isnull=False
        )
        .exclude(user=actor)
        .order_by("id")
    )
    placements = [Placement.of_user(actor, room, Attendee.ParticipantType.OWNER)]
    placements += [Placement.of_attendee(moderator, room) for moderator in moderators]
    attendees_add_bulk(actor=actor, placements=placements)
    return room


# --- settings of one conversation -----------------------------------------------------------


@transaction.atomic
def conversation_rename(*, actor: User, room: Conversation, name: str) -> Conversation:
    """Rename a conversation (not a one-to-one: its name is the pair of user ids)."""
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    name = _valid_room_name(name)
    room = Conversation.objects.select_for_update().get(pk=room.pk)
    if name != room.name:
        old_name = room.name
        room.name = name
        room.save(update_fields=["name"])
        system_messages_post(
            actor=actor,
            messages=[
                SystemMessage(room_id=room.pk, key="conversation_renamed", text={"oldName": old_name, "newName": name})
            ],
        )
    return room


@transaction.atomic
def conversation_description_set(*, actor: User, room: Conversation, description: str) -> Conversation:
    """Set (or, with "", remove) the description: at most 2000 characters."""
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise BadRequest("description")
    room = Conversation.objects.select_for_update().get(pk=room.pk)
    if description != room.description:
        room.description = description
        room.save(update_fields=["description"])
        key = "description_set" if description else "description_removed"
        system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=key)])
    return room


@transaction.atomic
def conversation_delete(*, actor: User, room: Conversation) -> None:
    """Delete a conversation with its attendees and chat. A parent takes its breakout rooms with
    it (FK cascade, decision 7); deleting a breakout room leaves the parent's mode and status."""
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    _conversation_delete(room=room)


def _conversation_delete(*, room: Conversation) -> None:
    # Lock the tree so that no concurrent configure/switch writes rows into rooms being deleted.
    room = _tree_lock(room)
    Conversation.objects.filter(pk=room.pk).delete()


@transaction.atomic
def conversation_lobby_set(*, actor: User, room: Conversation, state: int, timer: int | None = None) -> Conversation:
    """Turn the lobby on (1) or off (0). A breakout room's lobby is driven by start/stop only, so
    that it stays on exactly when its parent is stopped: 400 ``breakout-room``."""
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    if room.is_breakout_room:
        raise BadRequest("breakout-room")
    if state not in (Conversation.Lobby.NONE, Conversation.Lobby.NON_MODERATORS):
        raise BadRequest("state")
    lobby_timer = datetime_from_timestamp(timer, error="timer") if timer and state else None
    room = Conversation.objects.select_for_update().get(pk=room.pk)
    changed = room.lobby_state != state
    room.lobby_state = state
    room.lobby_timer = lobby_timer
    room.save(update_fields=["lobby_state", "lobby_timer"])
    if changed:
        key = "lobby_non_moderators" if state else "lobby_none"
        system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=key)])
    return room


def lobby_timer_due(room: Conversation, *, now: datetime | None = None) -> bool:
    """Whether the lobby of ``room`` is on with a timer that has passed (a breakout room's lobby
    follows its parent, never a timer)."""
    return (
        room.parent_id is None
        and room.lobby_state == Conversation.Lobby.NON_MODERATORS
        and room.lobby_timer is not None
        and room.lobby_timer <= (now or timezone.now())
    )


@transaction.atomic
def conversation_lobby_timers_expire(*, room_ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Open every given lobby whose timer has passed, as Talk does when it loads such a room, and
    post ``lobby_timer_reached`` there (actor: the system). The rows are locked and re-checked,
    in id order, so concurrent requests open each lobby exactly once. Returns the opened ids."""
    now = now or timezone.now()
    due = Conversation.objects.filter(
        pk__in=list(room_ids),
        parent__isnull=True,
        lobby_state=Conversation.Lobby.NON_MODERATORS,
        lobby_timer__lte=now,
    )
    opened = list(due.select_for_update().order_by("pk").values_list("pk", flat=True))
    if not opened:
        return []
    Conversation.objects.filter(pk__in=opened).update(
        lobby_state=Conversation.Lobby.NONE, lobby_timer=None, last_activity=now
    )
    ChatMessage.objects.bulk_create(
        ChatMessage(
            room_id=room_id,
            actor_type=Attendee.ACTOR_GUESTS,
            actor_id="system",
            message_type=ChatMessage.Type.SYSTEM,
            system_message="lobby_timer_reached",
            created_at=now,
        )
        for room_id in opened
    )
    return opened


@transaction.atomic
def conversation_listable_set(*, actor: User, room: Conversation, scope: int) -> Conversation:
    """Who may find the conversation: 0 participants only, 1 users, 2 everyone. Breakout rooms stay
    0 (400 ``breakout-room`` when the value would change)."""
    if scope not in LISTABLE_MESSAGES:
        raise BadRequest("scope")
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    room = Conversation.objects.select_for_update().get(pk=room.pk)
    if room.listable == scope:
        return room
    if room.is_breakout_room:
        raise BadRequest("breakout-room")
    room.listable = scope
    room.save(update_fields=["listable"])
    system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=LISTABLE_MESSAGES[scope])])
    return room


@transaction.atomic
def conversation_public_set(*, actor: User, room: Conversation, public: bool) -> Conversation:
    """Make a group conversation public (type 3) or a public one private (type 2). Breakout rooms
    and configured parents cannot become public (400 ``breakout-room``): a parent must stay a
    group conversation. Under the tree lock, so a concurrent configure sees the final type."""
    if room.type not in (Conversation.Type.GROUP, Conversation.Type.PUBLIC):
        raise BadRequest("type")
    room = _tree_lock(room)
    new_type = Conversation.Type.PUBLIC if public else Conversation.Type.GROUP
    if room.type == new_type:
        return room
    if public and (room.is_breakout_room or room.breakout_room_mode != Conversation.BreakoutMode.NOT_CONFIGURED):
        raise BadRequest("breakout-room")
    room.type = new_type
    room.save(update_fields=["type"])
    key = "guests_allowed" if public else "guests_disallowed"
    system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=key)])
    return room


@transaction.atomic
def conversation_password_set(*, actor: User, room: Conversation, password: str) -> Conversation:
    """Set (or, with "", remove) the password of a public conversation. Breakout rooms and every
    other non-public conversation: 400 ``type`` (decision 5)."""
    if room.is_breakout_room or room.type != Conversation.Type.PUBLIC:
        raise BadRequest("type")
    room = Conversation.objects.select_for_update().get(pk=room.pk)
    had_password = bool(room.password)
    room.password = make_password(password) if password else ""
    room.save(update_fields=["password"])
    if password or had_password:
        key = "password_set" if password else "password_removed"
        system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key=key)])
    return room


@transaction.atomic
def conversation_message_expiration_set(*, actor: User, room: Conversation, seconds: int) -> Conversation:
    """Let new chat messages expire after ``seconds`` (0 = never). Not on breakout rooms."""
    if room.is_breakout_room:
        raise BadRequest("breakout-room")
    if not 0 <= seconds <= MESSAGE_EXPIRATION_MAX_SECONDS:
        raise BadRequest("seconds")
    room = Conversation.objects.select_for_update().get(pk=room.pk)
    if room.message_expiration != seconds:
        room.message_expiration = seconds
        room.save(update_fields=["message_expiration"])
        if seconds:
            message = SystemMessage(room_id=room.pk, key="message_expiration_enabled", text={"seconds": seconds})
        else:
            message = SystemMessage(room_id=room.pk, key="message_expiration_disabled")
        system_messages_post(actor=actor, messages=[message])
    return room


# --- participants ---------------------------------------------------------------------------


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
def participants_add(*, actor: User, room: Conversation, new_participant: str, source: str) -> list[Attendee]:
    """Add a user (``source`` users) or every member of a Django group (``source`` groups,
    decision 14) to a conversation as users (type 3); people already in it are left alone.
    A breakout room follows ``breakout_room_participant_add``."""
    if room.is_breakout_room:
        if source != "users":
            raise BadRequest("source")
        user = _users_for_source(new_participant=new_participant, source=source)[0]
        return breakout_room_participant_add(actor=actor, room=room, user=user)
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    users = _users_for_source(new_participant=new_participant, source=source)
    # The parent's lock: a concurrent configure reads this room's attendee list.
    room = _tree_lock(room)
    present = set(Attendee.objects.filter(room=room, user__in=[u.pk for u in users]).values_list("user_id", flat=True))
    placements = [Placement.of_user(u, room, Attendee.ParticipantType.USER) for u in users if u.pk not in present]
    return attendees_add_bulk(actor=actor, placements=placements)


@transaction.atomic
def breakout_room_participant_add(*, actor: User, room: Conversation, user: User) -> list[Attendee]:
    """Put ``user`` into the breakout room ``room`` (contract 1.12 "add participant"): into the
    parent first when missing (type 3), out of the parent's other breakout rooms, then into this
    one with type 3. A parent moderator is added with their parent type and stays in every room.

    Keeps, under the parent's lock, "a student is in at most one breakout room of a parent" and
    "every parent moderator is a moderator in each breakout room". Re-adding a student to the room
    they are in changes nothing (decision 9).
    """
    if room.parent_id is None:
        raise ValueError(f"{room.token} is not a breakout room")
    parent = conversation_tree_lock(parent_id=room.parent_id)
    parent_attendee = Attendee.objects.filter(room=parent, actor_type=Attendee.ACTOR_USERS, user=user).first()
    added: list[Attendee] = []
    if parent_attendee is None:
        added += attendees_add_bulk(
            actor=actor, placements=[Placement.of_user(user, parent, Attendee.ParticipantType.USER)]
        )
    in_breakout_rooms = list(
        Attendee.objects.filter(breakout_parent=parent, actor_type=Attendee.ACTOR_USERS, user=user).order_by("id")
    )
    if parent_attendee is not None and parent_attendee.participant_type in MODERATOR_TYPES:
        if any(a.room_id == room.pk for a in in_breakout_rooms):
            raise BadRequest("moderator")
        placement = Placement.of_user(user, room, parent_attendee.participant_type)
        return added + attendees_add_bulk(actor=actor, placements=[placement])
    if any(a.participant_type in MODERATOR_PERMISSION_TYPES for a in in_breakout_rooms):
        raise BadRequest("moderator")
    if any(a.room_id == room.pk for a in in_breakout_rooms):
        return added
    attendees_remove_bulk(actor=actor, attendees=in_breakout_rooms)
    return added + attendees_add_bulk(
        actor=actor, placements=[Placement.of_user(user, room, Attendee.ParticipantType.USER)]
    )


def _attendee_in_room(*, room: Conversation, attendee_id: int) -> Attendee:
    attendee = Attendee.objects.filter(room=room, pk=attendee_id).first()
    if attendee is None:
        raise NotFound()
    return attendee


def _is_parent_moderator(*, room: Conversation, attendee: Attendee) -> bool:
    """Whether ``attendee`` of the breakout room ``room`` is an owner/moderator of its parent."""
    return Attendee.objects.filter(
        room_id=room.parent_id,
        actor_type=attendee.actor_type,
        actor_id=attendee.actor_id,
        participant_type__in=MODERATOR_TYPES,
    ).exists()


def _remove_with_cascade(*, actor: User, room: Conversation, attendee: Attendee) -> None:
    """Remove ``attendee`` from ``room``; from a parent also the same actor from every breakout
    room of it (decision 7). The caller holds the tree lock."""
    rows = [attendee]
    if not room.is_breakout_room:
        rows += list(
            Attendee.objects.filter(
                breakout_parent=room, actor_type=attendee.actor_type, actor_id=attendee.actor_id
            ).order_by("id")
        )
    attendees_remove_bulk(actor=actor, attendees=rows)


@transaction.atomic
def attendee_remove(*, actor: User, room: Conversation, attendee_id: int) -> None:
    """A moderator removes an attendee (Talk's removeAttendeeFromRoom). Removing oneself is
    leaving. Owners cannot be removed (403); a parent moderator cannot be removed from a breakout
    room (400 ``moderator``); removal from a parent cascades to its breakout rooms."""
    room = _tree_lock(room)
    target = _attendee_in_room(room=room, attendee_id=attendee_id)
    if room.type == Conversation.Type.ONE_TO_ONE:
        raise BadRequest("type")
    if target.actor_type == Attendee.ACTOR_USERS and target.user_id == actor.pk:
        participant_leave(actor=actor, room=room)
        return
    if target.participant_type == Attendee.ParticipantType.OWNER:
        raise Forbidden()
    if room.is_breakout_room and _is_parent_moderator(room=room, attendee=target):
        raise BadRequest("moderator")
    _remove_with_cascade(actor=actor, room=room, attendee=target)


@transaction.atomic
def participant_leave(*, actor: User, room: Conversation) -> None:
    """The caller leaves (Talk's removeSelfFromRoom). The last owner/moderator cannot leave while
    other users remain (400 ``last-moderator``); the last user leaving deletes the conversation
    (with its breakout rooms); leaving a parent leaves its breakout rooms too. A parent moderator
    cannot leave a breakout room (400 ``moderator``)."""
    room = _tree_lock(room)
    me = Attendee.objects.filter(room=room, actor_type=Attendee.ACTOR_USERS, user=actor).first()
    if me is None:
        raise NotFound()
    breakout_moderator = room.is_breakout_room and me.participant_type in MODERATOR_TYPES
    if breakout_moderator and _is_parent_moderator(room=room, attendee=me):
        raise BadRequest("moderator")
    counts = Attendee.objects.filter(room=room, actor_type=Attendee.ACTOR_USERS).aggregate(
        users=Count("id"), moderators=Count("id", filter=Q(participant_type__in=MODERATOR_TYPES))
    )
    if room.type == Conversation.Type.ONE_TO_ONE:
        if counts["users"] <= 1:
            Conversation.objects.filter(pk=room.pk).delete()
        else:
            attendees_remove_bulk(actor=actor, attendees=[me])
        return
    if me.participant_type in MODERATOR_TYPES and counts["users"] > 1 and counts["moderators"] == 1:
        raise BadRequest("last-moderator")
    if counts["users"] <= 1:
        Conversation.objects.filter(pk=room.pk).delete()
        return
    _remove_with_cascade(actor=actor, room=room, attendee=me)


# --- moderators -----------------------------------------------------------------------------


def _participant_type_change(*, actor: User, room: Conversation, attendee_id: int, promote: bool) -> Attendee:
    """Talk's changeParticipantType: unknown attendee 404, oneself 403, groups 400, already in the
    wanted state 400, owners and self-joined users 403."""
    room = _tree_lock(room)
    target = _attendee_in_room(room=room, attendee_id=attendee_id)
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
    if not promote and room.is_breakout_room and _is_parent_moderator(room=room, attendee=target):
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
