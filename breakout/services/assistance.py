"""The assistance queue (extension ``breakout-rooms-assistance-queue``).

Talk keeps a request for assistance as a flag on the breakout room (status 2). Here each request
is also a row: who asked and when, who claimed it and when, and when it ended (reset by an
attendee, or closed by a stop or a removal of the rooms, or by closing that one room: ``stopped``),
so the queue can show who waits and the history can report how long. The lifecycle and room
control services call ``request_open`` and ``requests_end`` inside their transaction with the
tree lock held; ``assistance_claim`` is the moderators' own operation.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from breakout.models import AssistanceRequest
from breakout.services import rounds
from conversations.models import Conversation
from conversations.services.primitives import moderator_recheck, room_tree_lock
from live.services import NewEvent, events_record_bulk
from project.errors import BadRequest, ServiceError

End = AssistanceRequest.End


class ClaimedError(ServiceError):
    """409 ``{"error": "claimed", "claimedBy": user id, "claimedByDisplayName": name}``: another
    moderator holds the request."""

    status_code = 409

    def __init__(self, request: AssistanceRequest) -> None:
        super().__init__("claimed")
        self.request = request

    @property
    def data(self) -> dict[str, str]:
        claimer = self.request.claimed_by
        return {
            "error": "claimed",
            "claimedBy": self.request.claimed_by_actor_id,
            "claimedByDisplayName": claimer.get_display_name() if claimer is not None else "",
        }


def open_requests(*, parent_id: int) -> QuerySet[AssistanceRequest]:
    """The open requests of a parent's rooms, oldest first."""
    return (
        AssistanceRequest.objects.filter(parent_id=parent_id, ended_at__isnull=True)
        .select_related("requested_by", "claimed_by")
        .order_by("requested_at", "id")
    )


def request_open(*, actor: User, room: Conversation, now: datetime) -> None:
    """``actor`` asks for assistance in the breakout room ``room`` (tree lock held). A request
    that is already open stays the one in the queue (its asker and time are kept). Two
    statements."""
    if room.parent_id is None:
        return
    if AssistanceRequest.objects.filter(room_id=room.pk, ended_at__isnull=True).exists():
        return
    AssistanceRequest.objects.bulk_create(
        [
            AssistanceRequest(
                parent_id=room.parent_id,
                round_id=rounds.open_round_id(room.parent_id),
                room_id=room.pk,
                room_token=room.token,
                room_name=room.name,
                requested_by=actor if actor.pk else None,
                requested_by_actor_id=actor.username,
                requested_at=now,
            )
        ]
    )


def requests_end(*, how: str, now: datetime, parent_id: int | None = None, room_id: int | None = None) -> int:
    """End the open requests of one room or of every room of a parent: one UPDATE."""
    requests = AssistanceRequest.objects.filter(ended_at__isnull=True)
    if room_id is not None:
        requests = requests.filter(room_id=room_id)
    elif parent_id is not None:
        requests = requests.filter(parent_id=parent_id)
    else:
        raise ValueError("requests_end needs a room or a parent")
    return requests.update(ended_at=now, ended_how=how)


@transaction.atomic
def assistance_claim(*, actor: User, room: Conversation, as_operator: bool = False) -> AssistanceRequest:
    """A moderator of the parent takes the open request of the breakout room ``room``;
    ``as_operator``: an operator (staff, authorised by the admin's permissions, not an attendee)
    takes it, recorded as the claimer like a moderator.

    Under the tree lock, so two moderators claiming at once are served one after the other: the
    first gets the request, the second 409 ``claimed`` with who holds it (claiming one's own
    claim again is a no-op). No open request: 400 ``status``. Not a breakout room: 400 ``room``.
    An event ``breakout.assistance`` (status 2, ``claimedBy``) tells the tree's moderators.
    """
    room = room_tree_lock(room)
    if room.parent is None:
        raise BadRequest("room")
    if not as_operator:
        moderator_recheck(room=room.parent, actor=actor)
    request = (
        AssistanceRequest.objects.select_related("requested_by", "claimed_by")
        .filter(room_id=room.pk, ended_at__isnull=True)
        .first()
    )
    if request is None:
        raise BadRequest("status")
    if request.claimed_by_actor_id:
        if request.claimed_by_actor_id == actor.username:
            return request
        raise ClaimedError(request)
    now = timezone.now()
    AssistanceRequest.objects.filter(pk=request.pk).update(
        claimed_by=actor, claimed_by_actor_id=actor.username, claimed_at=now
    )
    request.claimed_by, request.claimed_by_actor_id, request.claimed_at = actor, actor.username, now
    events_record_bulk(
        events=[
            NewEvent(
                type="breakout.assistance",
                token=room.token,
                parent_token=room.parent.token,
                actor_id=actor.username,
                payload={"status": Conversation.BreakoutStatus.ASSISTANCE_REQUESTED, "claimedBy": actor.username},
            )
        ]
    )
    return request


def request_payload(request: AssistanceRequest) -> dict[str, object]:
    """One entry of the queue."""
    asker, claimer = request.requested_by, request.claimed_by
    return {
        "id": request.pk,
        "roomToken": request.room_token,
        "roomName": request.room_name,
        "requestedBy": request.requested_by_actor_id,
        "requestedByDisplayName": asker.get_display_name() if asker is not None else "",
        "requestedAt": int(request.requested_at.timestamp()),
        "claimedBy": request.claimed_by_actor_id or None,
        "claimedByDisplayName": claimer.get_display_name() if claimer is not None else None,
        "claimedAt": int(request.claimed_at.timestamp()) if request.claimed_at else None,
    }


def request_history_payload(request: AssistanceRequest) -> dict[str, object]:
    """A request in the round history, with how long it waited until claimed and until ended
    (seconds; ``null`` while that has not happened)."""

    def waited(until: datetime | None) -> int | None:
        return int((until - request.requested_at).total_seconds()) if until is not None else None

    return {
        **request_payload(request),
        "endedAt": int(request.ended_at.timestamp()) if request.ended_at else None,
        "endedHow": request.ended_how or None,
        "secondsToClaim": waited(request.claimed_at),
        "secondsToEnd": waited(request.ended_at),
    }
