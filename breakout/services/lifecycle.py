"""The breakout-room lifecycle: configure, remove, start, stop, broadcast, reorganize, assistance
and switch (contract sections 1.1-1.9 and 4.1-4.8).

Every function here is one transaction that first locks the parent's row with
``conversation_tree_lock``. That single lock serialises all writers of one tree, which is what
keeps the invariants the database cannot express on its own:

- a parent has exactly one set of breakout rooms;
- every moderator (owner) of a parent is a moderator (owner) in each of its breakout rooms;
- a breakout room's lobby is on exactly when its parent is stopped, or when that one room was
  closed on its own (``breakout.services.control``);
- a non-moderator is in at most one breakout room of a parent (also a partial unique constraint).

Under the lock each service re-reads what it checks, the caller's attendee row and role
included: a request authorised before the lock must not act for a moderator who was removed or
demoted while it waited (404 no longer an attendee, 403 no longer a moderator), and a parent or
room that vanished meanwhile is a 404. The state checks (``breakout.services.guards``) then run
in the contract's order on the locked rows, so a rejected request changes nothing. The input
serializers run the same guards before the lock to give the contract's first error.

The services take typed values (``mode`` a ``Conversation.BreakoutMode``, ``attendee_map`` a
``dict[int, int]``, ``message`` a ``str``). ``as_operator=True`` is for the admin and the
management commands: an operator, authorised by Django's permissions, need not be an attendee.

The writes are set-based: the number of queries of each operation does not depend on how many
attendees or rooms there are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from bots.services import bots_inherit
from breakout.attendee_map import attendee_map_check
from breakout.models import SpanHow
from breakout.services import assistance, rounds
from breakout.services.assignment import AssignmentOptions, students_plan
from breakout.services.guards import (
    amount_require,
    assistance_open_require,
    breakout_config_require,
    caller_require,
    mode_configurable_require,
    names_require,
    parent_configurable_require,
    parent_configured_require,
    switch_open_require,
)
from conversations.models import Attendee, ChatMessage, Conversation, ConversationAvatar
from conversations.services.chat import chat_message_text_validate
from conversations.services.lifecycle import conversation_leftovers_delete
from conversations.services.primitives import (
    Placement,
    SystemMessage,
    attendee_rows,
    attendees_move,
    attendees_place,
    attendees_remove_bulk,
    conversation_tree_lock,
    conversation_tree_share_lock,
    conversations_create_bulk,
    rooms_touch,
    system_messages_post,
    tree_end_due,
)
from live.services import NewEvent, events_add, events_batch, events_record_bulk
from project.errors import BadRequest, NotFound


def _tree_lock(*, parent_id: int) -> Conversation:
    """``conversation_tree_lock``, with a parent deleted while we waited for it answered 404 (the
    contract's answer for a conversation that does not exist) instead of ``DoesNotExist``."""
    try:
        return conversation_tree_lock(parent_id=parent_id)
    except Conversation.DoesNotExist:
        raise NotFound() from None


def _caller_in(parent: Conversation, *, actor: User, moderator: bool) -> Attendee:
    """The caller's row in ``parent``, read under the tree lock: the access check of the request
    ran before the lock, and a moderator removed or demoted while the request waited must not
    act (404 no longer an attendee, 403 no longer a moderator)."""
    row = Attendee.objects.filter(room=parent, actor_type=Attendee.ACTOR_USERS, user=actor).first()
    return caller_require(row, moderator=moderator)


def _breakout_rooms(parent: Conversation) -> QuerySet[Conversation]:
    return Conversation.objects.filter(parent=parent).order_by("id")


def _event(type: str, *, actor: User, room: Conversation, **payload: object) -> NewEvent:
    """An event about ``room`` (a parent or a breakout room whose parent is loaded)."""
    parent_token = room.parent.token if room.parent_id and room.parent is not None else None
    return NewEvent(type=type, token=room.token, parent_token=parent_token, actor_id=actor.username, payload=payload)


def _switchto(*, actor: User, user_id: str, source: str, parent: Conversation, target: str) -> NewEvent:
    """Talk's ``switchto``, addressed to the user ``user_id``: leave the room ``source`` (the
    parent or one of its breakout rooms) for the room ``target``. Only that user and the
    parent's moderators receive it."""
    return NewEvent(
        type="breakout.switchto",
        token=source,
        parent_token=None if source == parent.token else parent.token,
        actor_id=actor.username,
        target_user_id=user_id,
        payload={"target": target},
    )


def _students_in_rooms(parent: Conversation) -> list[tuple[str, str]]:
    """(actor id, breakout room token) of every student user in a breakout room of ``parent``,
    in one query."""
    return list(
        Attendee.objects.filter(
            breakout_parent=parent, actor_type=Attendee.ACTOR_USERS, participant_type__in=Attendee.STUDENT_TYPES
        )
        .order_by("id")
        .values_list("actor_id", "room__token")
    )


def _breakout_rooms_delete(*, parent: Conversation) -> None:
    """Delete every breakout room of ``parent`` with its attendees, pictures, chat (with its
    reactions and reminders) and polls (with their votes), in eight statements.

    Django's cascading ``delete()`` would first load every chat message (their ``reply_to``
    relation forbids its fast path) and split the work into batches, so its query count grows
    with the size of the rooms. The rows go in dependency order instead: attendees (a fast
    delete, nothing refers to them), chat messages (replies only point inside the same room, and
    the whole room's chat goes at once), then the rooms themselves (nothing else refers to them).
    """
    Attendee.objects.filter(room__parent=parent).delete()
    conversation_leftovers_delete(Conversation.objects.filter(parent=parent))  # before the chat
    ConversationAvatar.objects.filter(room__parent=parent).delete()  # the rooms' uploaded pictures
    messages = ChatMessage.objects.filter(room__parent=parent)
    messages._raw_delete(messages.db)
    rooms = Conversation.objects.filter(parent=parent)
    rooms._raw_delete(rooms.db)


@transaction.atomic
@events_batch()
def breakout_configure(
    *,
    actor: User,
    parent: Conversation,
    mode: int,
    amount: int,
    attendee_map: Mapping[int, int],
    as_operator: bool = False,
    assignment: AssignmentOptions | None = None,
    names: Sequence[str] | None = None,
) -> Conversation:
    """Create ``amount`` breakout rooms "Room 1".."Room N" for ``parent`` (contract 1.1, 4.1).

    ``mode`` is a ``Conversation.BreakoutMode``; ``attendee_map`` (parent attendee id -> room
    index) places students in mode 2 and is ignored otherwise. All or nothing (decisions 1 and
    2): the checks run on the locked parent, in the contract's order, before anything is written,
    so a rejected request leaves the parent unconfigured and two concurrent requests cannot both
    create rooms (the second sees the first one's mode and gets ``room``). Moderators of the
    parent join every room with their parent type; students are placed by ``mode``. With
    ``as_operator`` (admin, commands) ``actor`` need not be a moderator of ``parent``.
    ``assignment`` (mode 1): seed, constraints and strategy of the draw; the plan is left on
    ``parent.breakout_assignment``. A round and the students' spans are recorded. ``names``
    (extension ``breakout-rooms-names``): the rooms' names instead of "Room 1".."Room N", exactly
    ``amount`` of them, unique (400 ``names``).
    """
    parent = _tree_lock(parent_id=parent.pk)
    # As plain values: a model instance per member would cost more than their placement.
    members = attendee_rows(Attendee.objects.filter(room=parent, actor_type=Attendee.ACTOR_USERS).order_by("id"))
    if not as_operator:
        caller_require(next((a for a in members if a.user_id == actor.pk), None), moderator=True)
    breakout_config_require()
    parent_configurable_require(parent)
    mode_configurable_require(mode)
    amount_require(amount)
    room_names = names_require(names, amount=amount) if names is not None else None
    placed = attendee_map_check(attendee_map, room_count=amount) if mode == Conversation.BreakoutMode.MANUAL else {}

    now = timezone.now()
    # Rooms left behind by a parent that was reset some other way (Talk's "orphan clean-up").
    _breakout_rooms_delete(parent=parent)
    rooms = conversations_create_bulk(
        rooms=[
            Conversation(
                type=parent.type,
                name=room_names[number - 1] if room_names else f"Room {number}",
                parent=parent,
                lobby_state=Conversation.Lobby.NON_MODERATORS,
                last_activity=now,
                created_at=now,
            )
            for number in range(1, amount + 1)
        ]
    )
    system_messages_post(
        actor=actor,
        messages=[SystemMessage(room_id=room.pk, key="conversation_created") for room in rooms],
        now=now,
        rooms=rooms,
    )

    moderators = [a for a in members if a.participant_type in Attendee.MODERATOR_TYPES]
    students = [a for a in members if a.participant_type in Attendee.STUDENT_TYPES]
    placements = [Placement.of_attendee(attendee, room) for room in rooms for attendee in moderators]
    plan = None
    if mode == Conversation.BreakoutMode.AUTOMATIC:
        plan = students_plan(parent=parent, students=students, amount=amount, options=assignment)
        placed = plan.room_of
    student_rooms = [(a, rooms[placed[a.pk]]) for a in students if a.pk in placed]
    placements += [Placement.of_attendee(attendee, room) for attendee, room in student_rooms]
    attendees_place(actor=actor, placements=placements, now=now)
    bots_inherit(rooms=rooms, parent=parent)  # decision: breakout rooms get the parent's bots
    history = rounds.round_open(actor=actor, parent=parent, mode=mode, amount=amount, now=now, options=assignment)
    how = SpanHow.AUTOMATIC if mode == Conversation.BreakoutMode.AUTOMATIC else SpanHow.MANUAL
    rounds.spans_open(parent_id=parent.pk, round_id=history.pk, entries=student_rooms, how=how, now=now)
    parent.breakout_assignment = plan  # type: ignore[attr-defined]

    Conversation.objects.filter(pk=parent.pk).update(breakout_room_mode=mode)
    parent.breakout_room_mode = mode
    rooms_tokens = [room.token for room in rooms]
    events_add(
        events=[_event("breakout.configured", actor=actor, room=parent, mode=mode, amount=amount, rooms=rooms_tokens)]
    )
    return parent


@transaction.atomic
@events_batch()
def breakout_remove(*, actor: User, parent: Conversation, as_operator: bool = False) -> Conversation:
    """Delete every breakout room of ``parent`` and reset it to mode 0, status 0 (contract 1.2,
    decision 6). Succeeds on a parent without breakout rooms too."""
    parent = _tree_lock(parent_id=parent.pk)
    if not as_operator:
        _caller_in(parent, actor=actor, moderator=True)
    _breakout_rooms_delete(parent=parent)
    now = timezone.now()
    assistance.requests_end(parent_id=parent.pk, how=assistance.End.REMOVED, now=now)
    rounds.round_close(parent_id=parent.pk, now=now)
    Conversation.objects.filter(pk=parent.pk).update(
        breakout_room_mode=Conversation.BreakoutMode.NOT_CONFIGURED,
        breakout_room_status=Conversation.BreakoutStatus.STOPPED,
        breakout_ends_at=None,
    )
    parent.breakout_ends_at = None
    parent.breakout_room_mode = Conversation.BreakoutMode.NOT_CONFIGURED
    parent.breakout_room_status = Conversation.BreakoutStatus.STOPPED
    events_add(events=[_event("breakout.removed", actor=actor, room=parent)])
    return parent


def _lobbies_set(*, actor: User, parent: Conversation, lobby: int, message_key: str, **extra: Any) -> None:
    """Set every breakout room's lobby to ``lobby`` (timer cleared) and post ``message_key`` in
    exactly the rooms whose lobby changed, so repeating start or stop posts nothing twice."""
    rooms = _breakout_rooms(parent)
    changed = list(rooms.exclude(lobby_state=lobby))
    for room in changed:
        room.parent = parent
    rooms.update(lobby_state=lobby, lobby_timer=None, **extra)
    messages = [SystemMessage(room_id=room.pk, key=message_key) for room in changed]
    system_messages_post(actor=actor, messages=messages, rooms=changed)


@transaction.atomic
@events_batch()
def breakout_start(*, actor: User, parent: Conversation, as_operator: bool = False) -> Conversation:
    """Open every breakout room (lobby 0) and mark the parent started (contract 1.3, 4.2).

    Under the tree lock start and stop run one after the other, so "lobby on exactly when the
    parent is stopped" holds after any interleaving. Assistance requests are kept.
    """
    parent = _tree_lock(parent_id=parent.pk)
    if not as_operator:
        _caller_in(parent, actor=actor, moderator=True)
    parent_configured_require(parent)
    _lobbies_set(actor=actor, parent=parent, lobby=Conversation.Lobby.NONE, message_key="breakout_rooms_started")
    rounds.round_started(parent_id=parent.pk, now=timezone.now())
    Conversation.objects.filter(pk=parent.pk).update(breakout_room_status=Conversation.BreakoutStatus.STARTED)
    parent.breakout_room_status = Conversation.BreakoutStatus.STARTED
    events_add(
        events=[
            _event("breakout.started", actor=actor, room=parent),
            *(
                _switchto(actor=actor, user_id=user_id, source=parent.token, parent=parent, target=room_token)
                for user_id, room_token in _students_in_rooms(parent)
            ),
        ]
    )
    return parent


@transaction.atomic
@events_batch()
def breakout_stop(*, actor: User, parent: Conversation, as_operator: bool = False) -> Conversation:
    """Close every breakout room (lobby 1), clear assistance requests and mark the parent stopped
    (contract 1.4, 4.2); same locking argument as ``breakout_start``."""
    parent = _tree_lock(parent_id=parent.pk)
    if not as_operator:
        _caller_in(parent, actor=actor, moderator=True)
    parent_configured_require(parent)
    # A timer or grace countdown ends with the stop (extension breakout-rooms-timer).
    Conversation.objects.filter(pk=parent.pk).update(
        breakout_room_status=Conversation.BreakoutStatus.STOPPED, breakout_ends_at=None
    )
    parent.breakout_room_status = Conversation.BreakoutStatus.STOPPED
    parent.breakout_ends_at = None
    now = timezone.now()
    rounds.round_stopped(parent_id=parent.pk, now=now)
    assistance.requests_end(parent_id=parent.pk, how=assistance.End.STOPPED, now=now)
    _lobbies_set(
        actor=actor,
        parent=parent,
        lobby=Conversation.Lobby.NON_MODERATORS,
        message_key="breakout_rooms_stopped",
        breakout_room_status=Conversation.BreakoutStatus.STOPPED,
        breakout_ends_at=None,
    )
    events_add(
        events=[
            _event("breakout.stopped", actor=actor, room=parent),
            *(
                _switchto(actor=actor, user_id=user_id, source=room_token, parent=parent, target=parent.token)
                for user_id, room_token in _students_in_rooms(parent)
            ),
        ]
    )
    return parent


@transaction.atomic
def breakout_broadcast(*, actor: User, parent: Conversation, message: str) -> Conversation:
    """Post ``message`` (trimmed) as a chat message of ``actor`` into every breakout room, all
    with one timestamp, in one INSERT: into all rooms or, on any error, into none (decision 11).
    An empty message is 400 ``message``, one over the chat limit 413 ``message``."""
    parent = _tree_lock(parent_id=parent.pk)
    _caller_in(parent, actor=actor, moderator=True)
    parent_configured_require(parent)
    text = chat_message_text_validate(message)
    now = timezone.now()
    tokens = dict(_breakout_rooms(parent).values_list("pk", "token"))
    room_ids = list(tokens)
    created = ChatMessage.objects.bulk_create(
        [
            ChatMessage(
                room_id=room_id,
                actor_type=Attendee.ACTOR_USERS,
                actor_id=actor.username,
                actor_display_name=actor.get_display_name(),
                message_type=ChatMessage.Type.COMMENT,
                message=text,
                created_at=now,
            )
            for room_id in room_ids
        ]
    )
    rooms_touch(room_ids=room_ids, now=now)
    events_record_bulk(
        events=[
            *(
                NewEvent(
                    type="chat.message",
                    token=tokens[message.room_id],
                    parent_token=parent.token,
                    actor_id=actor.username,
                    payload={"messageId": message.pk},
                )
                for message in created
            ),
            _event("breakout.broadcast", actor=actor, room=parent, messageIds=[message.pk for message in created]),
        ]
    )
    return parent


@transaction.atomic
@events_batch()
def breakout_reorganize(
    *,
    actor: User,
    parent: Conversation,
    attendee_map: Mapping[int, int],
    as_operator: bool = False,
    span_how: str = SpanHow.REORGANIZE,
) -> Conversation:
    """Move the students named in ``attendee_map`` (parent attendee id -> room index) to the room
    at their index (contract 1.6, 4.6).

    Only attendees whose room changes are touched: one who is already in their target room keeps
    the very same attendee row (no "remove everyone, re-add", which would drop people from their
    call). Moderators cannot be moved (``moderator``, nothing changed), which keeps every parent
    moderator a moderator in each room. The indices are checked against the rooms found under the
    lock (``attendeeMap``).
    """
    parent = _tree_lock(parent_id=parent.pk)
    # The caller's row and the mapped rows of the parent in one query.
    parent_rows = list(
        Attendee.objects.filter(room=parent, actor_type=Attendee.ACTOR_USERS)
        .filter(Q(pk__in=list(attendee_map)) | Q(user_id=actor.pk))  # pk None: the service (commands)
        .order_by("id")
    )
    if not as_operator:
        caller_require(next((a for a in parent_rows if a.user_id == actor.pk), None), moderator=True)
    breakout_config_require()
    parent_configured_require(parent)
    rooms = list(_breakout_rooms(parent).select_related("parent"))
    mapping = attendee_map_check(attendee_map, room_count=len(rooms))

    selected = [a for a in parent_rows if a.pk in mapping]
    current = list(
        Attendee.objects.filter(
            room__parent=parent, actor_type=Attendee.ACTOR_USERS, actor_id__in=[a.actor_id for a in selected]
        ).order_by("id")
    )
    # Talk checks the breakout rows; a parent moderator is one in every room anyway, and refusing
    # them here as well keeps a moderator missing from some room from being made a student.
    if any(a.participant_type in Attendee.MODERATOR_PERMISSION_TYPES for a in [*selected, *current]):
        raise BadRequest("moderator")

    target_by_actor = {a.actor_id: rooms[mapping[a.pk]] for a in selected}
    removals = [a for a in current if a.room_id != target_by_actor[a.actor_id].pk]
    staying = {a.actor_id for a in current if a.room_id == target_by_actor[a.actor_id].pk}
    placements = [Placement.of_attendee(a, target_by_actor[a.actor_id]) for a in selected if a.actor_id not in staying]
    now = timezone.now()
    # Removals first: the partial unique constraint allows one breakout room per student.
    attendees_remove_bulk(actor=actor, attendees=removals, now=now, extra_rooms=rooms)
    attendees_place(actor=actor, placements=placements, now=now)
    rounds.spans_close(parent_id=parent.pk, actor_ids=[a.actor_id for a in removals], how=span_how, now=now)
    moved = [(a, target_by_actor[a.actor_id]) for a in selected if a.actor_id not in staying]
    rounds.spans_open(parent_id=parent.pk, entries=moved, how=span_how, now=now)
    if parent.breakout_room_status == Conversation.BreakoutStatus.STARTED:
        # Only a started tree sends people into rooms; a stopped one holds them in the parent.
        token_of = {room.pk: room.token for room in rooms}
        source_of = {a.actor_id: token_of[a.room_id] for a in removals}
        events_add(
            events=[
                _switchto(
                    actor=actor,
                    user_id=a.actor_id,
                    source=source_of.get(a.actor_id, parent.token),
                    parent=parent,
                    target=room.token,
                )
                for a, room in moved
            ]
        )
    return parent


def _assistance_set(*, actor: User, room: Conversation, status: int, as_operator: bool) -> Conversation:
    if room.parent_id is None:
        raise BadRequest("room")
    # The parent lock orders this after a concurrent stop, which closes the lobby and clears the
    # flag: without it a request could land on a room that was just stopped.
    _tree_lock(parent_id=room.parent_id)
    # Re-read under the lock: the room may be gone, and the caller (any attendee of the room)
    # may have been removed from it while the request waited.
    fresh = (
        Conversation.objects.select_related("parent")
        .annotate(
            caller_present=Exists(
                Attendee.objects.filter(room=OuterRef("pk"), actor_type=Attendee.ACTOR_USERS, user_id=actor.pk)
            )
        )
        .filter(pk=room.pk)
        .first()
    )
    if fresh is None or not (as_operator or fresh.caller_present):
        raise NotFound()
    assistance_open_require(fresh)
    now = timezone.now()
    # The queue's record: who asked and when; a reset ends it (extension assistance-queue).
    if status == Conversation.BreakoutStatus.ASSISTANCE_REQUESTED:
        assistance.request_open(actor=actor, room=fresh, now=now)
    else:
        assistance.requests_end(room_id=fresh.pk, how=assistance.End.RESET, now=now)
    Conversation.objects.filter(pk=fresh.pk).update(breakout_room_status=status, last_activity=now)
    fresh.breakout_room_status = status
    fresh.last_activity = now
    events_add(events=[_event("breakout.assistance", actor=actor, room=fresh, status=status)])
    return fresh


@transaction.atomic
def assistance_request(*, actor: User, room: Conversation, as_operator: bool = False) -> Conversation:
    """Flag the started breakout room ``room`` as asking for assistance (status 2, contract 1.7);
    ``actor`` is any attendee of ``room``."""
    return _assistance_set(
        actor=actor, room=room, status=Conversation.BreakoutStatus.ASSISTANCE_REQUESTED, as_operator=as_operator
    )


@transaction.atomic
def assistance_reset(*, actor: User, room: Conversation, as_operator: bool = False) -> Conversation:
    """Withdraw the request for assistance of ``room`` (status 0, contract 1.8)."""
    return _assistance_set(actor=actor, room=room, status=Conversation.BreakoutStatus.STOPPED, as_operator=as_operator)


@transaction.atomic
@events_batch()
def breakout_switch(*, actor: User, parent: Conversation, target: str) -> Conversation:
    """Move ``actor`` (a student of a started free-mode parent) into the breakout room whose token
    is ``target`` and out of every other one (contract 1.9, 4.7); returns the target room.

    The check-then-act of Talk's switch leaves a user in two rooms when two switches race. Here a
    switch holds the tree's shared lock (the parent's status cannot change meanwhile; moderators'
    operations hold it exclusively) and locks the student's own attendee rows, so two switches of
    one student run one after another while switches of different students run side by side. The
    partial unique constraint on attendees would refuse a second room even without the lock.
    Switching to the room one is already in changes nothing.
    """
    # Narrow locks: the tree's shared lock (switches of different students run side by side; a
    # moderator's start/stop/configure waits for them and they for it, in arrival order), then the
    # student's own parent row, then only the rooms involved, in id order (the rooms' last
    # activity is updated, so two switches between the same two rooms must not lock them in
    # opposite orders).
    try:
        parent = conversation_tree_share_lock(parent_id=parent.pk)
    except Conversation.DoesNotExist:
        raise NotFound() from None
    # The student's parent row FOR UPDATE serialises two switches of one student; their
    # breakout rows are read after it (a fresh snapshot: the other switch's new row is seen).
    me = caller_require(
        Attendee.objects.select_for_update(of=("self",))
        .filter(room=parent, actor_type=Attendee.ACTOR_USERS, user=actor)
        .first(),
        moderator=False,
    )
    if tree_end_due(parent):
        # The breakout timer has ended the rounds: the shared lock cannot stop the rooms (the
        # worker or the next reader does, under the exclusive lock), but no switch acts on them.
        raise BadRequest("status")
    switch_open_require(parent, caller=me)
    mine = list(Attendee.objects.filter(breakout_parent=parent, actor_type=Attendee.ACTOR_USERS, user=actor))
    rooms = list(
        _breakout_rooms(parent)
        .filter(Q(token=target) | Q(pk__in=[a.room_id for a in mine]))
        .select_related("parent")
        .select_for_update(of=("self",), no_key=True)
    )
    target_room = next((room for room in rooms if room.token == target), None)
    if target_room is None or target_room.lobby_state != Conversation.Lobby.NONE:
        # A room closed on its own (extension breakout-rooms-single) takes nobody in.
        raise BadRequest("target")

    now = timezone.now()
    leaving = [a for a in mine if a.room_id != target_room.pk]
    arriving = not any(a.room_id == target_room.pk for a in mine)
    placements = [Placement.of_attendee(me, target_room)] if arriving else []
    attendees_move(actor=actor, leaving=leaving, placements=placements, now=now, rooms=rooms)
    if arriving:
        rounds.spans_close(parent_id=parent.pk, actor_ids=[me.actor_id], how=SpanHow.SWITCH, now=now)
        rounds.spans_open(parent_id=parent.pk, entries=[(me, target_room)], how=SpanHow.SWITCH, now=now)
        token_of = {room.pk: room.token for room in rooms}
        source = token_of.get(leaving[0].room_id, parent.token) if leaving else parent.token
        events_add(
            events=[_switchto(actor=actor, user_id=me.actor_id, source=source, parent=parent, target=target_room.token)]
        )
    return target_room
