"""Breakout gauges for Prometheus, computed from the database at scrape time (one query).

- ``breakout_parents_started``: conversations whose breakout rooms are started.
- ``breakout_rooms_running``: breakout rooms of started parents.
- ``breakout_assistance_requests_open``: breakout rooms asking for assistance.
- ``breakout_waiting_clients``: clients waiting on the live layer (long polls, streams). Only
  that layer knows the number, so it is exported only once the layer has called
  ``waiting_clients_source(callable)`` with a function returning it; until then the metric is
  absent rather than a made-up zero.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from django.db import DatabaseError
from django.db.models import Count, Q
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from conversations.models import Conversation

logger = logging.getLogger(__name__)

_waiting_clients: Callable[[], int] | None = None


def waiting_clients_source(source: Callable[[], int] | None) -> None:
    """Register (or, with None, remove) the function that returns how many clients the live
    layer of this process currently holds waiting; it must be cheap (no SQL)."""
    global _waiting_clients
    _waiting_clients = source


def breakout_gauge_values() -> dict[str, int]:
    """The database-backed gauges, in one aggregate query over breakout rooms and their parents."""
    started = Conversation.BreakoutStatus.STARTED
    return Conversation.objects.filter(parent__isnull=False).aggregate(
        parents_started=Count("parent", distinct=True, filter=Q(parent__breakout_room_status=started)),
        rooms_running=Count("pk", filter=Q(parent__breakout_room_status=started)),
        assistance_requests_open=Count(
            "pk", filter=Q(breakout_room_status=Conversation.BreakoutStatus.ASSISTANCE_REQUESTED)
        ),
    )


GAUGES = {
    "breakout_parents_started": "Conversations whose breakout rooms are started",
    "breakout_rooms_running": "Breakout rooms of started conversations",
    "breakout_assistance_requests_open": "Breakout rooms asking for assistance",
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
