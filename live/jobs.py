"""What the worker does besides running jobs: re-queue the jobs of dead workers and schedule the
periodic jobs.

django-tasks-db claims a job by marking it RUNNING with the worker's id and never looks at it
again: a worker killed with SIGKILL (or a lost host) leaves its job RUNNING forever. Here a job
RUNNING for longer than ``TASKS_CLAIM_TIMEOUT_SECONDS`` counts as lost and is made READY again,
so another worker (or the restarted one) runs it. The timeout must exceed the longest job; a job
that outlives it may run twice, which is why jobs are written to be safe to repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult

from live.tasks import events_prune_job

logger = logging.getLogger(__name__)

SCHEDULE_LOCK_KEY = 0x6C697666  # serialises the schedulers of several workers on PostgreSQL


@dataclass(frozen=True)
class Periodic:
    task: Task
    interval: Callable[[], int]  # seconds, read from the settings when it is used


PERIODIC = [Periodic(events_prune_job, lambda: settings.EVENT_PRUNE_INTERVAL_SECONDS)]


def periodic_register(periodic: Periodic) -> None:
    """Add a periodic job of an app above ``live`` (called from its ``AppConfig.ready()``); a
    job registered twice is scheduled once."""
    if all(task_path(known.task) != task_path(periodic.task) for known in PERIODIC):
        PERIODIC.append(periodic)


def task_path(task: Task) -> str:
    return f"{task.func.__module__}.{task.func.__qualname__}"


def stale_claims_requeue() -> int:
    """Make the jobs claimed longer than the claim timeout ago ready again; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.TASKS_CLAIM_TIMEOUT_SECONDS)
    count = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).update(
        status=TaskResultStatus.READY, started_at=None
    )
    if count:
        logger.warning("Re-queued %d job(s) whose worker stopped answering", count)
    return count


@transaction.atomic
def periodic_jobs_schedule() -> int:
    """Enqueue each periodic job that has no pending run: now when it never ran, else one
    interval after its last run. Several workers may call this at once: on PostgreSQL an
    advisory lock serialises them, SQLite's write lock (BEGIN IMMEDIATE) does it there."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEDULE_LOCK_KEY])
    scheduled = 0
    now = timezone.now()
    for periodic in PERIODIC:
        runs = DBTaskResult.objects.filter(task_path=task_path(periodic.task))
        if runs.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).exists():
            continue
        last = runs.exclude(finished_at=None).order_by("-finished_at").values_list("finished_at", flat=True).first()
        run_after = max(now, last + timedelta(seconds=periodic.interval())) if last else now
        periodic.task.using(run_after=run_after).enqueue()
        scheduled += 1
    return scheduled
