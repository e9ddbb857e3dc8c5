"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz`` answers 200 while the process can serve a request; it touches no database, so a
database outage does not make an orchestrator restart healthy processes. ``/readyz`` runs the
checks named in ``settings.READINESS_CHECKS`` and answers 503 when any fails, so traffic is
only routed to a process that can serve it. Each check is a function returning ``None`` when
fine or a short reason when not; another part of the service (the worker's heartbeat, say)
adds its own by appending its dotted path to that setting, without this module importing it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

ReadinessCheck = Callable[[], "str | None"]

# Once every migration is applied it stays applied for the life of this process (new
# migrations come with new code, hence a restart), so the graph is only loaded until then.
_migrations_applied = False


def database_reachable() -> str | None:
    """The default database answers a trivial query."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not reachable"; the reason is logged
        logger.warning("readiness: database unreachable: %s", exc)
        return "database unreachable"
    return None


def migrations_applied() -> str | None:
    """No migration of the code is missing from the database."""
    global _migrations_applied
    if _migrations_applied:
        return None
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        logger.warning("readiness: migration state unknown: %s", exc)
        return "migration state unknown"
    if pending:
        return f"{len(pending)} migration(s) not applied"
    _migrations_applied = True
    return None


def readiness_checks() -> dict[str, ReadinessCheck]:
    """The configured checks by name (the last part of their dotted path)."""
    return {path.rsplit(".", 1)[-1]: import_string(path) for path in settings.READINESS_CHECKS}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        # A later check (migrations) would only repeat an earlier failure (no database).
        if any(result != "ok" for result in results.values()):
            results[name] = "skipped"
            continue
        results[name] = check() or "ok"
    ready = all(result == "ok" for result in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
