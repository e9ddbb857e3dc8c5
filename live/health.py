"""The readiness check of the background worker (``settings.READINESS_CHECKS``, project/health.py):
a worker wrote its heartbeat (``live.models.WorkerHeartbeat``) recently."""

from __future__ import annotations

import os
import socket
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from live.models import WorkerHeartbeat


def worker_heartbeat_write(now: datetime | None = None) -> None:
    """Record that this worker is alive (one UPDATE, an INSERT the very first time)."""
    WorkerHeartbeat.objects.update_or_create(
        id=1, defaults={"beat_at": now or timezone.now(), "worker": f"{socket.gethostname()}:{os.getpid()}"}
    )


def worker_heard_from() -> str | None:
    """None while a worker wrote its heartbeat within ``LIVE_WORKER_STALE_SECONDS``, else why not."""
    beat_at = WorkerHeartbeat.objects.filter(id=1).values_list("beat_at", flat=True).first()
    if beat_at is None:
        return "no worker heard from yet (manage.py live_worker)"
    age = (timezone.now() - beat_at).total_seconds()
    limit = settings.LIVE_WORKER_STALE_SECONDS
    if age > limit:
        return f"worker last heard from {age:.0f} s ago (limit {limit} s)"
    return None
