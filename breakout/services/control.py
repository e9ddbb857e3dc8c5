"""One breakout room at a time (extension ``breakout-rooms-single``): a moderator of the parent
closes or opens one breakout room while the others run.

A closed room is a breakout room whose lobby is on while its parent is started; the parent's
status does not change. Its students stay its attendees (they come back to the same room), are
told to go to the parent (``breakout.switchto``, as on a stop) and are told to come back when it
opens again. A switch into a closed room is refused (400 ``target``); reorganize may still place
students there (they wait in its lobby); start opens every room and stop closes every room, as
always.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from breakout.services import assistance
from breakout.services.guards import parent_started_require
from conversations.models import Attendee, Conversation
from conversations.services.primitives import SystemMessage, moderator_recheck, room_tree_lock, system_messages_post
from live.services import NewEvent, events_add, events_batch
from project.errors import BadRequest


def _room_event(
    type: str, *, actor: User, room: Conversation, to_user: str | None = None, **payload: object
) -> NewEvent:
    """An event about the breakout room ``room`` (its parent loaded); ``to_user`` addresses it to
    one user."""
    parent_token = room.parent.token if room.parent is not None else None
    return NewEvent(
        type=type,
        token=room.token,
        parent_token=parent_token,
        actor_id=actor.username,
        target_user_id=to_user,
        payload=payload,
    )


def _room_lobby_set(*, actor: User, room: Conversation, lobby: int) -> Conversation:
    room = room_tree_lock(room)  # the parent's row first, as every writer of the tree
    parent = room.parent
    if parent is None:
        raise BadRequest("room")
    # Re-read under the lock: the caller must still be a moderator of the parent.
    moderator_recheck(room=parent, actor=actor)
    parent_started_require(parent)
    if room.lobby_state == lobby:
        return room
    closing = lobby == Conversation.Lobby.NON_MODERATORS
    # Closing ends the room's open request for assistance as a stop does (the flag back to 0, the
    # request ended "stopped"): in a closed room nobody could reset it (assistance needs an open
    # lobby), and the queue would list a room nobody can enter. An open request always has the
    # flag (``assistance.request_open`` runs where it is set), so a room without it costs nothing.
    ends_request = closing and room.breakout_room_status == Conversation.BreakoutStatus.ASSISTANCE_REQUESTED
    flag = {"breakout_room_status": Conversation.BreakoutStatus.STOPPED} if ends_request else {}
    Conversation.objects.filter(pk=room.pk).update(lobby_state=lobby, lobby_timer=None, **flag)
    room.lobby_state, room.lobby_timer = lobby, None
    if ends_request:
        room.breakout_room_status = Conversation.BreakoutStatus.STOPPED
        assistance.requests_end(room_id=room.pk, how=assistance.End.STOPPED, now=timezone.now())
        reset = Conversation.BreakoutStatus.STOPPED
        events_add(events=[_room_event("breakout.assistance", actor=actor, room=room, status=reset)])
    system_messages_post(
        actor=actor,
        messages=[SystemMessage(room_id=room.pk, key="breakout_room_closed" if closing else "breakout_room_opened")],
        rooms=[room],  # its parent is loaded: the chat.message event needs no query for the tokens
    )
    students = Attendee.objects.filter(
        room=room, actor_type=Attendee.ACTOR_USERS, participant_type__in=Attendee.STUDENT_TYPES
    ).order_by("id")
    target = parent.token if closing else room.token
    events_add(
        events=[
            _room_event("breakout.switchto", actor=actor, room=room, to_user=actor_id, target=target)
            for actor_id in students.values_list("actor_id", flat=True)
        ]
    )
    return room


@transaction.atomic
@events_batch()
def breakout_room_close(*, actor: User, room: Conversation) -> Conversation:
    """Close the breakout room ``room`` of a started parent: its lobby; its students are sent to
    the parent and its open request for assistance ends as on a stop (``breakout.assistance``
    status 0 to the tree's moderators). 400 ``room`` for a conversation that is not a breakout
    room, ``status`` when the parent is not started; already closed: nothing changes."""
    return _room_lobby_set(actor=actor, room=room, lobby=Conversation.Lobby.NON_MODERATORS)


@transaction.atomic
@events_batch()
def breakout_room_open(*, actor: User, room: Conversation) -> Conversation:
    """Open the closed breakout room ``room`` again; its students are sent back into it."""
    return _room_lobby_set(actor=actor, room=room, lobby=Conversation.Lobby.NONE)
