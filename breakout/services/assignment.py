"""Automatic assignment with a seed, constraints and fresh mixes (issue 12), and the shuffle.

``students_plan`` turns the request's options into a call of the pure ``breakout.assignment``
module: group ids become the parent's students in each group (one query, only when
``spreadGroups`` is given), ``strategy=fresh`` reads who shared a room in the earlier rounds of
this parent (one query, only then). Without options it makes no query and draws like Talk
(shuffle, k-th student to room k mod amount).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import User
from breakout.assignment import Assignment, Constraints, InfeasibleConstraints, assignment_plan
from breakout.models import AssignmentSpan, SpanHow
from conversations.models import Attendee, Conversation
from conversations.services.primitives import AttendeeRow
from project.errors import BadRequest

STRATEGY_RANDOM = "random"
STRATEGY_FRESH = "fresh"
STRATEGIES = (STRATEGY_RANDOM, STRATEGY_FRESH)
CONSTRAINTS_ERROR = "constraints"


class ConstraintsError(BadRequest):
    """400 ``{"error": "constraints", "attendeeIds": [...]}``: the attendee ids that are not
    students of the parent, or whose constraints cannot all be kept together."""

    def __init__(self, attendee_ids: Sequence[int]) -> None:
        super().__init__(CONSTRAINTS_ERROR)
        self.attendee_ids = sorted(set(attendee_ids))

    @property
    def data(self) -> dict:
        return {"error": CONSTRAINTS_ERROR, "attendeeIds": self.attendee_ids}


@dataclass(frozen=True)
class AssignmentOptions:
    """The optional parameters of configure mode 1 and shuffle."""

    seed: int | None = None
    keep_apart: list[list[int]] = field(default_factory=list)
    keep_together: list[list[int]] = field(default_factory=list)
    spread_groups: list[str] = field(default_factory=list)
    strategy: str = STRATEGY_RANDOM

    @property
    def fresh(self) -> bool:
        return self.strategy == STRATEGY_FRESH


def _spread_groups(students: Sequence[Attendee | AttendeeRow], group_ids: Sequence[str]) -> list[list[int]]:
    """Per group id, the parent attendee ids of the students in that group (one query)."""
    if not group_ids:
        return []
    attendee_of_user = {a.user_id: a.pk for a in students}
    members: dict[str, list[int]] = defaultdict(list)
    membership = User.groups.through._default_manager
    rows = membership.filter(group__name__in=list(group_ids), user_id__in=list(attendee_of_user))
    for name, user_id in rows.values_list("group__name", "user_id").order_by("group__name", "user_id"):
        members[name].append(attendee_of_user[user_id])
    return [members[name] for name in group_ids if members.get(name)]


def _earlier_rooms(parent: Conversation, students: Sequence[Attendee | AttendeeRow]) -> list[list[int]]:
    """The students of each breakout room of the parent's earlier (ended) rounds, as parent
    attendee ids of today (one query)."""
    attendee_of_actor = {a.actor_id: a.pk for a in students}
    rooms: dict[tuple[int, str], set[int]] = defaultdict(set)
    spans = AssignmentSpan.objects.filter(round__parent=parent, round__removed_at__isnull=False)
    for round_id, token, actor_id in spans.values_list("round_id", "room_token", "actor_id"):
        if actor_id in attendee_of_actor:
            rooms[(round_id, token)].add(attendee_of_actor[actor_id])
    return [sorted(members) for _, members in sorted(rooms.items()) if len(members) > 1]


def students_plan(
    *, parent: Conversation, students: Sequence[Attendee | AttendeeRow], amount: int, options: AssignmentOptions | None
) -> Assignment:
    """Place ``students`` (parent attendee rows) into ``amount`` rooms by ``options``; raises
    ``ConstraintsError`` for unknown or conflicting attendee ids."""
    options = options or AssignmentOptions()
    constraints = Constraints(
        keep_apart=options.keep_apart,
        keep_together=options.keep_together,
        spread_groups=_spread_groups(students, options.spread_groups),
    )
    earlier = _earlier_rooms(parent, students) if options.fresh else []
    try:
        return assignment_plan(
            people=[a.pk for a in students],
            amount=amount,
            seed=options.seed,
            constraints=constraints,
            earlier_rooms=earlier,
        )
    except InfeasibleConstraints as error:
        raise ConstraintsError(error.ids) from None


@transaction.atomic
def breakout_shuffle(
    *, actor: User, parent: Conversation, options: AssignmentOptions, as_operator: bool = False
) -> Conversation:
    """Draw the automatic assignment of a configured mode-1 parent again (``POST .../shuffle``)
    and move only the students whose room changes, as a reorganize does (same lock, checks and
    writes; spans record ``automatic``). ``parent.breakout_assignment`` carries the plan."""
    from breakout.services import lifecycle

    locked = lifecycle._tree_lock(parent_id=parent.pk)
    students = list(
        Attendee.objects.filter(
            room=locked, actor_type=Attendee.ACTOR_USERS, participant_type__in=Attendee.STUDENT_TYPES
        ).order_by("id")
    )
    if not as_operator:
        lifecycle._caller_in(locked, actor=actor, moderator=True)
    if locked.breakout_room_mode != Conversation.BreakoutMode.AUTOMATIC:
        raise BadRequest("mode")
    amount = lifecycle._breakout_rooms(locked).count()
    plan = students_plan(parent=locked, students=students, amount=amount, options=options)
    result = lifecycle.breakout_reorganize(
        actor=actor, parent=locked, attendee_map=plan.room_of, as_operator=True, span_how=SpanHow.AUTOMATIC
    )
    result.breakout_assignment = plan  # type: ignore[attr-defined]
    return result
