"""Request ids and structured logs.

Every request gets an id: a sane incoming ``X-Request-Id`` (set by a proxy or a client) is kept,
anything else is replaced by a fresh one. The id is sent back in the ``X-Request-Id`` response
header and bound, for the duration of the request, into structlog's context variables, which the
log formatter merges into every line, whichever logger wrote it (Django's, the apps', libraries').

``LOG_FORMAT=json`` writes one JSON object per line (for a log shipper); the default,
``console``, writes the same fields as readable ``key=value`` text.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse

from project.middleware import DualModeMiddleware

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_META = "HTTP_X_REQUEST_ID"
# What a proxy's or a tracer's id looks like (UUIDs, hex, base64url); anything else (spaces,
# control characters, kilobytes) could forge or break log lines, so it is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
LOG_FORMATS = ("console", "json")

request_logger = logging.getLogger("project.request")


def request_id_for(request: HttpRequest) -> str:
    incoming = request.META.get(REQUEST_ID_META, "")
    if SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware(DualModeMiddleware):
    """Gives each request its id (``request.request_id``), binds it for the log lines written
    while the request is handled, answers it in ``X-Request-Id`` and logs one line per request
    at INFO (method, path, status, duration) on the ``project.request`` logger."""

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = self._start(request)
        started = time.monotonic()
        response = super().handle(request)
        self._finish(request, response, started, request_id)
        return response

    async def ahandle(self, request: HttpRequest) -> HttpResponse:
        request_id = self._start(request)
        started = time.monotonic()
        response = await super().ahandle(request)
        self._finish(request, response, started, request_id)
        return response

    @staticmethod
    def _start(request: HttpRequest) -> str:
        request_id = request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        # Bound until the next request of this thread (or task) clears it, not unbound on the
        # way out: Django logs 4xx/5xx answers ("django.request") after the middleware returned.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        return request_id

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponse, started: float, request_id: str) -> None:
        response[REQUEST_ID_HEADER] = request_id
        request_logger.info(
            "request finished",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def log_formatter(log_format: str) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every handler: the request id and a record's ``extra`` become fields."""
    if log_format == "json":
        renderers: list[Any] = [structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()]
    else:
        renderers = [structlog.dev.ConsoleRenderer(colors=False)]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
    )


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """``LOGGING`` for settings. structlog's own loggers, should code use them, go through the
    same stdlib handlers and formatter."""
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": log_formatter, "log_format": log_format}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
    }
