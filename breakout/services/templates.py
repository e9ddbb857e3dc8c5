"""Assignment templates (issue 12): a saved assignment, by user id and room name, owned by the
moderator who saved it, applied to any parent they moderate.

- save: the students of the parent's breakout rooms now (user id -> room name), under ``name``
  (unique per owner: saving an existing name replaces its rows);
- apply: an unconfigured parent is configured in mode 2 with as many rooms as the template
  names, the template's rooms in order becoming "Room 1".."Room N" (configure names the rooms);
  a configured one is reorganized (rooms matched by name, in the template's room order
  when the names are "Room 1".."Room N"); people of the template who are not students of the
  parent are reported, never added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import User
from breakout.models import AssignmentTemplate
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation
from project.errors import BadRequest, NotFound

NAME_MAX_LENGTH = 255


def template_rows_check(rows: Any) -> list[dict[str, str]]:
    """``[{"userId": str, "room": str}]`` with one row per user: 400 ``rows`` otherwise."""
    if not isinstance(rows, list):
        raise BadRequest("rows")
    seen: set[str] = set()
    clean = []
    for row in rows:
        if not isinstance(row, dict):
            raise BadRequest("rows")
        user_id, room = row.get("userId"), row.get("room")
        if not (isinstance(user_id, str) and user_id and isinstance(room, str) and room) or user_id in seen:
            raise BadRequest("rows")
        seen.add(user_id)
        clean.append({"userId": user_id, "room": room})
    return clean


@transaction.atomic
def template_save(*, actor: User, parent: Conversation, name: str) -> AssignmentTemplate:
    """Save the current assignment of ``parent`` as ``actor``'s template ``name`` (replacing one
    of the same name). 400 ``mode`` on an unconfigured parent."""
    parent = lifecycle._tree_lock(parent_id=parent.pk)
    lifecycle._caller_in(parent, actor=actor, moderator=True)
    if parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
        raise BadRequest("mode")
    rows = [
        {"userId": actor_id, "room": room_name}
        for actor_id, room_name in Attendee.objects.filter(
            breakout_parent=parent, actor_type=Attendee.ACTOR_USERS, participant_type__in=Attendee.STUDENT_TYPES
        )
        .order_by("room_id", "id")
        .values_list("actor_id", "room__name")
    ]
    return template_store(owner=actor, name=name, rows=rows)


def template_store(*, owner: User, name: str, rows: list[dict[str, str]]) -> AssignmentTemplate:
    """Create or replace ``owner``'s template ``name`` (also the CSV import)."""
    if not name.strip() or len(name) > NAME_MAX_LENGTH:
        raise BadRequest("name")
    template, _ = AssignmentTemplate.objects.update_or_create(
        owner=owner, name=name.strip(), defaults={"rows": template_rows_check(rows)}
    )
    return template


def template_get(*, owner: User, template_id: int) -> AssignmentTemplate:
    template = AssignmentTemplate.objects.filter(owner=owner, pk=template_id).first()
    if template is None:
        raise NotFound()
    return template


def template_delete(*, owner: User, template_id: int) -> None:
    if not AssignmentTemplate.objects.filter(owner=owner, pk=template_id).delete()[0]:
        raise NotFound()


@dataclass
class TemplateApplied:
    parent: Conversation
    configured: bool
    missing: list[str] = field(default_factory=list)


def _room_names(rows: list[dict[str, str]]) -> list[str]:
    names = list(dict.fromkeys(row["room"] for row in rows))
    numbered = {f"Room {n}" for n in range(1, len(names) + 1)}
    return sorted(names, key=lambda n: int(n[5:])) if set(names) == numbered else names


@transaction.atomic
def template_apply(*, actor: User, parent: Conversation, template: AssignmentTemplate) -> TemplateApplied:
    """Apply ``template`` to ``parent``: configure (mode 2) an unconfigured parent, reorganize a
    configured one. Rows whose user is not a student of the parent are reported in ``missing``;
    on a configured parent a room name it does not have is 400 ``room``."""
    parent = lifecycle._tree_lock(parent_id=parent.pk)
    lifecycle._caller_in(parent, actor=actor, moderator=True)
    rows = template.rows
    students = dict(
        Attendee.objects.filter(
            room=parent, actor_type=Attendee.ACTOR_USERS, participant_type__in=Attendee.STUDENT_TYPES
        ).values_list("actor_id", "pk")
    )
    missing = [row["userId"] for row in rows if row["userId"] not in students]
    present = [row for row in rows if row["userId"] in students]
    if parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
        names = _room_names(rows)
        if not names:
            raise BadRequest("rows")
        index = {name: i for i, name in enumerate(names)}
        attendee_map = {students[row["userId"]]: index[row["room"]] for row in present}
        try:
            result = lifecycle.breakout_configure(
                actor=actor,
                parent=parent,
                mode=Conversation.BreakoutMode.MANUAL,
                amount=len(names),
                attendee_map=attendee_map,
            )
        except IntegrityError:  # pragma: no cover - the tree lock orders configures
            raise BadRequest("room") from None
        return TemplateApplied(parent=result, configured=True, missing=missing)
    rooms = list(Conversation.objects.filter(parent=parent).order_by("id").values_list("name", flat=True))
    index = {name: i for i, name in reversed(list(enumerate(rooms)))}
    if any(row["room"] not in index for row in present):
        raise BadRequest("room")
    attendee_map = {students[row["userId"]]: index[row["room"]] for row in present}
    result = lifecycle.breakout_reorganize(actor=actor, parent=parent, attendee_map=attendee_map, as_operator=True)
    return TemplateApplied(parent=result, configured=False, missing=missing)
