"""Reads of the outbox. The audience filter (who may see what) is the caller's: it needs the
attendee data that only the conversations layer has."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from live.models import Event, Retention

EVENT_BATCH = 500


def event_newest_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_resume_lost(*, after_id: int) -> bool:
    """True when events after ``after_id`` may have been deleted by the retention job (a client
    that far behind must reload)."""
    return Retention.objects.filter(pruned_through__gt=after_id).exists()


def events_after(*, after_id: int, visible: Q, limit: int = EVENT_BATCH) -> list[Event]:
    """Up to ``limit`` events newer than ``after_id`` that ``visible`` admits, in id order, in
    one query."""
    return list(Event.objects.filter(visible, id__gt=after_id).order_by("id")[:limit])


def event_data(event: Event) -> dict[str, Any]:
    """The JSON object of an event on the wire: the common fields, then the type's own."""
    return {
        **event.payload,
        "type": event.type,
        "token": event.token,
        "parentToken": event.parent_token,
        "actorId": event.actor_id,
        "timestamp": int(event.created_at.timestamp()),
    }
