"""The invariants of a conversation tree, checked by reading the database (read-only).

Shared by the lifecycle model (``test_lifecycle_model.py``) and the soak and fault scripts
(``tests/soak/``). Models are looked up through the app registry by app label and name, so the
checks survive the services, views and modules being reorganised; they only need the model
fields that carry the contract's state (mode, status, lobby, parent, attendee type).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps

MODERATOR_TYPES = {1, 2}
STUDENT_TYPES = {3, 5}


def conversation_model():  # noqa: ANN201 - the model class, whatever app it lives in
    return apps.get_model("conversations", "Conversation")


def attendee_model():  # noqa: ANN201
    return apps.get_model("conversations", "Attendee")


def tree_violations(parent_ids: Iterable[int] | None = None) -> list[str]:
    """Every broken invariant of the given parents' trees (all parents when None), as sentences.

    - a parent is started only when it is configured; a configured-off parent has no rooms;
    - a breakout room has mode 0, status 0 or 2, and its lobby is on exactly when the parent is
      stopped (contract 4.2: 1 while stopped, 0 while started); no assistance request survives a stop;
    - a student (type 3/5) is in at most one breakout room of a parent;
    - every moderator (type 1/2) of a parent is a moderator (1/2) in each of its breakout rooms;
    - everyone in a breakout room is an attendee of its parent (removal cascades, contract 4.5).
    """
    Conversation = conversation_model()
    Attendee = attendee_model()
    parents_qs = Conversation.objects.filter(parent__isnull=True)
    if parent_ids is not None:
        parents_qs = parents_qs.filter(pk__in=list(parent_ids))
    parents = {row["pk"]: row for row in parents_qs.values("pk", "token", "breakout_room_mode", "breakout_room_status")}
    rooms_by_parent: dict[int, list[dict]] = defaultdict(list)
    for room in Conversation.objects.filter(parent_id__in=list(parents)).values(
        "pk", "token", "parent_id", "breakout_room_mode", "breakout_room_status", "lobby_state"
    ):
        rooms_by_parent[room["parent_id"]].append(room)
    room_ids = [room["pk"] for rooms in rooms_by_parent.values() for room in rooms]
    attendees: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for row in Attendee.objects.filter(room_id__in=list(parents) + room_ids).values(
        "room_id", "actor_type", "actor_id", "participant_type"
    ):
        attendees[row["room_id"]][(row["actor_type"], row["actor_id"])] = row["participant_type"]

    problems: list[str] = []
    for parent_id, parent in parents.items():
        name = f"parent {parent['token']}"
        mode, status = parent["breakout_room_mode"], parent["breakout_room_status"]
        rooms = rooms_by_parent.get(parent_id, [])
        if status not in (0, 1):
            problems.append(f"{name}: status {status} is not 0 or 1")
        if mode == 0 and status != 0:
            problems.append(f"{name}: started (status {status}) but not configured")
        if mode == 0 and rooms:
            problems.append(f"{name}: mode 0 but {len(rooms)} breakout room(s)")
        expected_lobby = 0 if status == 1 else 1
        parent_attendees = attendees.get(parent_id, {})
        moderators = {
            actor for actor, kind in parent_attendees.items() if kind in MODERATOR_TYPES and actor[0] == "users"
        }
        rooms_of_student: dict[tuple[str, str], list[str]] = defaultdict(list)
        for room in rooms:
            label = f"{name} room {room['token']}"
            if room["breakout_room_mode"] != 0:
                problems.append(f"{label}: mode {room['breakout_room_mode']} (must be 0)")
            if room["breakout_room_status"] not in (0, 2):
                problems.append(f"{label}: status {room['breakout_room_status']} (must be 0 or 2)")
            if room["breakout_room_status"] == 2 and status != 1:
                problems.append(f"{label}: assistance requested while the parent is stopped")
            if room["lobby_state"] != expected_lobby:
                problems.append(f"{label}: lobby {room['lobby_state']} while the parent's status is {status}")
            room_attendees = attendees.get(room["pk"], {})
            for actor in moderators:
                if room_attendees.get(actor) not in MODERATOR_TYPES:
                    problems.append(f"{label}: parent moderator {actor[1]} is {room_attendees.get(actor)} here")
            for actor, kind in room_attendees.items():
                if actor not in parent_attendees:
                    problems.append(f"{label}: {actor[1]} is not an attendee of the parent")
                if kind in STUDENT_TYPES:
                    rooms_of_student[actor].append(room["token"])
        for actor, tokens in rooms_of_student.items():
            if len(tokens) > 1:
                problems.append(f"{name}: student {actor[1]} is in {len(tokens)} breakout rooms {tokens}")
    return problems


def acts_after_removal() -> list[str]:
    """Chat and system messages by a user in a room after that user was removed from it (a
    ``user_removed`` about them) and before they were added again (``user_added``): a request
    whose caller's membership or role was decided before it took the tree's lock (issue 8,
    defect 2: "user_removed" followed by "breakout_rooms_started" by the removed moderator)."""
    ChatMessage = apps.get_model("conversations", "ChatMessage")
    removed: dict[int, set[str]] = defaultdict(set)
    problems: list[str] = []
    rows = ChatMessage.objects.order_by("room_id", "pk").values_list(
        "room_id", "room__token", "actor_id", "system_message", "parameters"
    )
    for room_id, token, actor_id, system_message, parameters in rows.iterator():
        subject = (parameters or {}).get("user", {}).get("id") if isinstance(parameters, dict) else None
        if actor_id in removed[room_id] and not (system_message == "user_added" and subject == actor_id):
            problems.append(f"room {token}: {actor_id} wrote {system_message or 'a message'!r} after being removed")
        if system_message == "user_removed" and subject:
            removed[room_id].add(subject)
        elif system_message == "user_added" and subject:
            removed[room_id].discard(subject)
    return problems
