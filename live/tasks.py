"""Background jobs of the live layer, run by ``manage.py live_worker`` (django-tasks, database
backend). Jobs run at least once: one whose worker died is run again (see ``jobs``), so every
job must be safe to repeat."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from live.services import events_prune


@task()
def events_prune_job() -> int:
    """Delete the outbox's events older than ``EVENT_RETENTION_HOURS``; returns how many."""
    return events_prune(older_than_hours=settings.EVENT_RETENTION_HOURS)
