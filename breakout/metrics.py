"""Breakout gauges for Prometheus, computed from the database at scrape time (two queries).

- ``breakout_parents_started``: conversations whose breakout rooms are started.
- ``breakout_rooms_running``: breakout rooms of started parents.
- ``breakout_assistance_requests_open``: breakout rooms asking for assistance.
- ``breakout_assistance_oldest_age_seconds``: age of the oldest open (not ended)
  ``AssistanceRequest``, 0 when none is open.
- ``breakout_waiting_clients``: clients waiting on the live layer (long polls, streams). Only
  that layer knows the number, so it is exported only once the layer has called
  ``waiting_clients_source(callable)`` with a function returning it; until then the metric is
  absent rather than a made-up zero.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from breakout.models import AssistanceRequest
from conversations.models import Conversation

logger = logging.getLogger(__name__)

_waiting_clients: Callable[[], int] | None = None


def waiting_clients_source(source: Callable[[], int] | None) -> None:
    """Register (or, with None, remove) the function that returns how many clients the live
    layer of this process currently holds waiting; it must be cheap (no SQL)."""
    global _waiting_clients
    _waiting_clients = source


def breakout_gauge_values() -> dict[str, float]:
    """The database-backed gauges: one aggregate query over breakout rooms and their parents,
    one over the open assistance requests (``ended_at`` null)."""
    started = Conversation.BreakoutStatus.STARTED
    values: dict[str, float] = Conversation.objects.filter(parent__isnull=False).aggregate(
        parents_started=Count("parent", distinct=True, filter=Q(parent__breakout_room_status=started)),
        rooms_running=Count("pk", filter=Q(parent__breakout_room_status=started)),
        assistance_requests_open=Count(
            "pk", filter=Q(breakout_room_status=Conversation.BreakoutStatus.ASSISTANCE_REQUESTED)
        ),
    )
    oldest = AssistanceRequest.objects.filter(ended_at__isnull=True).aggregate(oldest=Min("requested_at"))["oldest"]
    # A clock a little behind the database's writer must not give a negative age.
    values["assistance_oldest_age_seconds"] = (
        0 if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())
    )
    return values


GAUGES = {
    "breakout_parents_started": "Conversations whose breakout rooms are started",
    "breakout_rooms_running": "Breakout rooms of started conversations",
    "breakout_assistance_requests_open": "Breakout rooms asking for assistance",
    "breakout_assistance_oldest_age_seconds": "Age in seconds of the oldest open assistance request (0 if none)",
    "breakout_waiting_clients": "Clients waiting on the live layer of this process",
}


class BreakoutCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        # Without describe() the registry would call collect(), a query, when the app loads.
        for name, documentation in GAUGES.items():
            yield GaugeMetricFamily(name, documentation)

    def collect(self) -> Iterator[Metric]:
        try:
            values = breakout_gauge_values()
        except DatabaseError as exc:  # the scrape still returns the process metrics
            logger.warning("breakout metrics unavailable: %s", exc)
            values = {}
        for key, value in values.items():
            name = f"breakout_{key}"
            yield GaugeMetricFamily(name, GAUGES[name], value=value)
        if _waiting_clients is not None:
            yield GaugeMetricFamily(
                "breakout_waiting_clients", GAUGES["breakout_waiting_clients"], value=_waiting_clients()
            )
