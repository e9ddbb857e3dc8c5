"""Dry runs (``dryRun=1`` on configure, shuffle and reorganize): the operation runs for real under
the tree lock inside a savepoint that is then rolled back, so the preview is exactly what the
operation would do and nothing of it stays: no rows, no system messages, no events (an event row
or an ``on_commit`` callback of the rolled-back savepoint is discarded with it).

An automatic draw without a seed gets one drawn here and reported, so the same request with that
``seed`` makes exactly the previewed assignment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from breakout.services.lifecycle import _tree_lock
from conversations.models import Attendee, Conversation


def _students_rooms(parent_id: int) -> tuple[dict[str, int], dict[str, str], list[tuple[str, str]]]:
    """Parent attendee id and room name of every student by actor id, and the rooms (token,
    name) by ascending id. Three queries."""
    parent_rows = dict(
        Attendee.objects.filter(
            room_id=parent_id, actor_type=Attendee.ACTOR_USERS, participant_type__in=Attendee.STUDENT_TYPES
        ).values_list("actor_id", "pk")
    )
    in_room = dict(
        Attendee.objects.filter(
            breakout_parent_id=parent_id, actor_type=Attendee.ACTOR_USERS, participant_type__in=Attendee.STUDENT_TYPES
        ).values_list("actor_id", "room__name")
    )
    rooms = list(Conversation.objects.filter(parent_id=parent_id).order_by("id").values_list("token", "name"))
    return parent_rows, in_room, rooms


@transaction.atomic
def preview_run(*, parent: Conversation, run: Callable[[], Any]) -> dict[str, Any]:
    """Run ``run`` (one lifecycle service on ``parent``) and roll it back; returns the rooms it
    would make and the moves: ``{"rooms": [{"index", "name", "attendeeIds"}], "moves":
    [{"attendeeId", "actorId", "from", "to"}]}`` (room names, ``None``: in no breakout room)."""
    _tree_lock(parent_id=parent.pk)
    _, before, _ = _students_rooms(parent.pk)
    with transaction.atomic():
        result = run()
        parent_rows, after, rooms = _students_rooms(parent.pk)
        transaction.set_rollback(True)
    members: dict[str, list[int]] = {name: [] for _, name in rooms}
    for actor_id, name in sorted(after.items(), key=lambda item: parent_rows.get(item[0], 0)):
        if actor_id in parent_rows:
            members.setdefault(name, []).append(parent_rows[actor_id])
    moves = [
        {
            "attendeeId": parent_rows[actor_id],
            "actorId": actor_id,
            "from": before.get(actor_id),
            "to": after.get(actor_id),
        }
        for actor_id in sorted(set(before) | set(after), key=lambda a: parent_rows.get(a, 0))
        if before.get(actor_id) != after.get(actor_id) and actor_id in parent_rows
    ]
    body: dict[str, Any] = {
        "dryRun": True,
        "rooms": [
            {"index": index, "name": name, "attendeeIds": members[name]} for index, (_, name) in enumerate(rooms)
        ],
        "moves": moves,
    }
    plan = getattr(result, "breakout_assignment", None)
    if plan is not None:
        body["repeatedPairs"] = plan.repeated_pairs
    return body
