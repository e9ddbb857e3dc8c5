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

from accounts.models import User
from breakout.services.guards import parent_started_require
from conversations.models import Attendee, Conversation
from conversations.services.primitives import SystemMessage, moderator_recheck, room_tree_lock, system_messages_post
from live.services import NewEvent, events_add, events_batch
from project.errors import BadRequest


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
    Conversation.objects.filter(pk=room.pk).update(lobby_state=lobby, lobby_timer=None)
    room.lobby_state, room.lobby_timer = lobby, None
    closing = lobby == Conversation.Lobby.NON_MODERATORS
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
            NewEvent(
                type="breakout.switchto",
                token=room.token,
                parent_token=parent.token,
                actor_id=actor.username,
                target_user_id=actor_id,
                payload={"target": target},
            )
            for actor_id in students.values_list("actor_id", flat=True)
        ]
    )
    return room


@transaction.atomic
@events_batch()
def breakout_room_close(*, actor: User, room: Conversation) -> Conversation:
    """Close the breakout room ``room`` of a started parent: its lobby only; its students are sent
    to the parent. 400 ``room`` for a conversation that is not a breakout room, ``status`` when
    the parent is not started; already closed: nothing changes."""
    return _room_lobby_set(actor=actor, room=room, lobby=Conversation.Lobby.NON_MODERATORS)


@transaction.atomic
@events_batch()
def breakout_room_open(*, actor: User, room: Conversation) -> Conversation:
    """Open the closed breakout room ``room`` again; its students are sent back into it."""
    return _room_lobby_set(actor=actor, room=room, lobby=Conversation.Lobby.NONE)
