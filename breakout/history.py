"""The history of a parent's breakout rounds (``GET /v1/breakout-rooms/{token}/history``, the
``breakout export --history`` CSV): rounds newest first, and per person the rooms they were in
and for how long, and the requests for assistance with how long each waited until claimed and
until it ended. Four queries whatever the size: count, the page of rounds, their spans, their
assistance requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from breakout.filters import RoundFilter, SpanFilter
from breakout.models import AssignmentSpan, AssistanceRequest, BreakoutRound
from breakout.services.assistance import request_history_payload
from conversations.models import Conversation
from project.errors import BadRequest


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def history_rounds(
    *, parent: Conversation, filters: Mapping[str, Any], limit: int, offset: int
) -> tuple[int, list[BreakoutRound]]:
    """The total number of matching rounds and one page of them, with their matching spans."""
    rounds = RoundFilter(filters, queryset=BreakoutRound.objects.filter(parent=parent).order_by("-id"))
    spans = SpanFilter(filters, queryset=AssignmentSpan.objects.order_by("opened_at", "id"))
    if not rounds.is_valid():
        raise BadRequest(next(iter(rounds.errors)))
    if not spans.is_valid():
        raise BadRequest(next(iter(spans.errors)))
    matching = rounds.qs
    total = matching.count()
    page = list(
        matching.select_related("configured_by").prefetch_related(
            Prefetch("spans", queryset=spans.qs),
            Prefetch(
                "assistance",
                queryset=AssistanceRequest.objects.select_related("requested_by", "claimed_by").order_by(
                    "requested_at", "id"
                ),
            ),
        )[offset : offset + limit]
    )
    return total, page


def span_seconds(span: AssignmentSpan, *, now: datetime) -> int:
    return int(((span.closed_at or now) - span.opened_at).total_seconds())


def round_payload(round_: BreakoutRound, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    people: dict[str, dict[str, Any]] = {}
    for span in round_.spans.all():
        person = people.setdefault(
            span.actor_id, {"userId": span.actor_id, "attendeeId": span.attendee_id, "seconds": 0, "rooms": []}
        )
        seconds = span_seconds(span, now=now)
        person["seconds"] += seconds
        person["attendeeId"] = person["attendeeId"] or span.attendee_id
        person["rooms"].append(
            {
                "roomToken": span.room_token,
                "roomName": span.room_name,
                "from": _ts(span.opened_at),
                "to": _ts(span.closed_at),
                "seconds": seconds,
                "how": span.how,
                "endedBy": span.closed_how or None,
            }
        )
    return {
        "id": round_.pk,
        "mode": round_.mode,
        "amount": round_.amount,
        "seed": round_.seed,
        "strategy": round_.strategy or None,
        "configuredAt": _ts(round_.configured_at),
        "startedAt": _ts(round_.started_at),
        "stoppedAt": _ts(round_.stopped_at),
        "removedAt": _ts(round_.removed_at),
        "timerEndsAt": _ts(round_.timer_ends_at),
        "configuredBy": round_.configured_by.username if round_.configured_by else None,
        "people": sorted(people.values(), key=lambda p: p["userId"]),
        "assistance": [request_history_payload(request) for request in round_.assistance.all()],
    }


HISTORY_CSV_HEADER = [
    "round",
    "configured_at",
    "started_at",
    "stopped_at",
    "removed_at",
    "user_id",
    "attendee_id",
    "room_token",
    "room_name",
    "from",
    "to",
    "seconds",
    "how",
    "ended_by",
]


def history_csv_rows(rounds: list[BreakoutRound]) -> list[list[Any]]:
    now = timezone.now()
    rows: list[list[Any]] = []
    for round_ in rounds:
        times = [_iso(round_.configured_at), _iso(round_.started_at), _iso(round_.stopped_at), _iso(round_.removed_at)]
        for span in round_.spans.all():
            rows.append(
                [
                    round_.pk,
                    *times,
                    span.actor_id,
                    span.attendee_id or "",
                    span.room_token,
                    span.room_name,
                    _iso(span.opened_at),
                    _iso(span.closed_at),
                    span_seconds(span, now=now),
                    span.how,
                    span.closed_how,
                ]
            )
    return rows


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""
