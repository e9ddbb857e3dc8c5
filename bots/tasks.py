"""The bots' job in the worker (``manage.py live_worker``), scheduled every
``BOTS_DELIVERY_INTERVAL_SECONDS`` by the worker's housekeeping. Safe to repeat: dispatch is
idempotent (one delivery per bot and event) and deliveries are claimed with a lease."""

from __future__ import annotations

from django_tasks import task

from bots.delivery import bots_housekeeping, deliveries_dispatch, deliveries_send


@task()
def bots_deliver_job() -> int:
    """Create the deliveries of new outbox events, send the due ones; returns how many were
    delivered."""
    deliveries_dispatch()
    delivered = deliveries_send()
    bots_housekeeping()
    return delivered
