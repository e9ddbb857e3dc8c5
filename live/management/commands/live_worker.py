"""``manage.py live_worker``: the background worker (django-tasks-db's ``db_worker``) plus a
housekeeping thread that re-queues the jobs of dead workers and schedules the periodic jobs.
Several may run at once: a job is claimed by one worker under a row lock (``SKIP LOCKED`` on
PostgreSQL, an exclusive transaction on SQLite), so no job runs twice while its worker lives."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from live.health import worker_heartbeat_write
from live.jobs import periodic_jobs_schedule, stale_claims_requeue

logger = logging.getLogger(__name__)


def housekeeping(stop: threading.Event, interval: float) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            worker_heartbeat_write()
            stale_claims_requeue()
            periodic_jobs_schedule()
        except Exception:
            logger.exception("Worker housekeeping failed; trying again")
        finally:
            connection.close()
        stop.wait(interval)


class Command(DBWorkerCommand):
    help = (
        "Run the background worker: jobs from the database queue, dead workers' jobs re-queued, periodic jobs, "
        "and a heartbeat that /readyz checks."
    )

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--housekeeping-interval",
            type=float,
            default=5.0,
            help="Seconds between heartbeats (for /readyz) and looks for lost jobs and due periodic jobs "
            "(default: %(default)s)",
        )

    def handle(self, *args: Any, housekeeping_interval: float, **options: Any) -> None:  # type: ignore[override]
        stop = threading.Event()
        thread = threading.Thread(
            target=housekeeping, args=(stop, housekeeping_interval), name="live-housekeeping", daemon=True
        )
        thread.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
