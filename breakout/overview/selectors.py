"""The rows of the overview page: the page of parents, then every room of those parents with its
attendee counts in one query, then who is in those rooms in one more, and, when a room asks for
assistance, the open requests (who asked, since when, who claimed) in one more."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from breakout.models import AssistanceRequest
from conversations.models import Attendee, Conversation


@dataclass
class RoomRow:
    room: Conversation
    number: int  # 1-based, by ascending id: the room numbers of `breakout assign`
    people: list[Attendee] = field(default_factory=list)  # moderators first, then by name
    request: AssistanceRequest | None = None  # the open assistance request (asker, claimer)

    @property
    def requested_by(self) -> str:
        if self.request is None:
            return ""
        asker = self.request.requested_by
        return asker.get_display_name() if asker is not None else self.request.requested_by_actor_id

    @property
    def claimed_by(self) -> str:
        if self.request is None or not self.request.claimed_by_actor_id:
            return ""
        claimer = self.request.claimed_by
        return claimer.get_display_name() if claimer is not None else self.request.claimed_by_actor_id

    @property
    def needs_assistance(self) -> bool:
        return self.room.breakout_room_status == Conversation.BreakoutStatus.ASSISTANCE_REQUESTED


@dataclass
class ParentRow:
    parent: Conversation
    rooms: list[RoomRow]

    @property
    def assistance_count(self) -> int:
        return sum(1 for row in self.rooms if row.needs_assistance)

    @property
    def is_configured(self) -> bool:
        return self.parent.breakout_room_mode != Conversation.BreakoutMode.NOT_CONFIGURED

    @property
    def is_started(self) -> bool:
        return self.parent.breakout_room_status == Conversation.BreakoutStatus.STARTED

    @property
    def ends_at(self) -> datetime | None:
        """The end of the started rooms' timer (``breakoutRoomEndsAt``), None when none runs."""
        return self.parent.breakout_ends_at if self.is_started else None


def overview_parents() -> QuerySet[Conversation]:
    """Every parent that has breakout rooms or is configured for them; parents with a room asking
    for assistance first, then by ascending id."""
    rooms = Conversation.objects.filter(parent=OuterRef("pk"))
    return (
        Conversation.objects.filter(parent__isnull=True)
        .filter(Q(Exists(rooms)) | ~Q(breakout_room_mode=Conversation.BreakoutMode.NOT_CONFIGURED))
        .annotate(
            asks_assistance=Exists(rooms.filter(breakout_room_status=Conversation.BreakoutStatus.ASSISTANCE_REQUESTED))
        )
        .order_by("-asks_assistance", "id")
    )


def _attendee_count(**filters: Any) -> Coalesce:
    counted = (
        Attendee.objects.filter(room=OuterRef("pk"), **filters)
        .order_by()
        .values("room")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def overview_rows(parents: Iterable[Conversation]) -> list[ParentRow]:
    """The breakout rooms of ``parents`` with their attendee and student counts, in one query;
    within a parent the rooms asking for assistance come first, then by ascending id."""
    parents = list(parents)
    rooms = Conversation.objects.filter(parent_id__in=[parent.pk for parent in parents]).annotate(
        attendee_total=_attendee_count(),
        student_total=_attendee_count(participant_type__in=Attendee.STUDENT_TYPES),
    )
    by_parent: dict[int, list[RoomRow]] = {parent.pk: [] for parent in parents}
    by_room: dict[int, RoomRow] = {}
    for room in rooms.order_by("id"):
        assert room.parent_id is not None  # the rooms of ``parents``
        siblings = by_parent[room.parent_id]
        siblings.append(RoomRow(room=room, number=len(siblings) + 1))
        by_room[room.pk] = siblings[-1]
    if by_room:
        people = (
            Attendee.objects.filter(room_id__in=list(by_room))
            .only("room_id", "actor_type", "actor_id", "display_name", "participant_type")
            .order_by("participant_type", "display_name", "actor_id")
        )
        for attendee in people:
            by_room[attendee.room_id].people.append(attendee)
    asking = [room_id for room_id, row in by_room.items() if row.needs_assistance]
    if asking:
        requests = AssistanceRequest.objects.filter(room_id__in=asking, ended_at__isnull=True).select_related(
            "requested_by", "claimed_by"
        )
        for request in requests:
            by_room[request.room_id].request = request
    rows = []
    for parent in parents:
        room_rows = sorted(by_parent[parent.pk], key=lambda row: (not row.needs_assistance, row.room.pk))
        rows.append(ParentRow(parent=parent, rooms=room_rows))
    return rows
