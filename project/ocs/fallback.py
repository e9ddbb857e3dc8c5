"""OCS answers produced outside DRF: unknown routes and Django's own error handlers."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from project.ocs.converters import TokenConverter
from project.ocs.renderers import is_ocs_path, is_ocs_v1, ocs_envelope

CONTENT_TYPE = "application/json; charset=utf-8"
# The same bytes as DRF's compact JSONRenderer, so an envelope reads the same whoever built it.
JSON_PARAMS = {"separators": (",", ":"), "ensure_ascii": False}
# Nextcloud's answer to an OCS route that does not exist (ocs/v1.php, ResourceNotFoundException).
UNKNOWN_ROUTE_STATUSCODE = 998
UNKNOWN_ROUTE_MESSAGE = (
    "Invalid query, please check the syntax. API specifications are here:"
    " http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.\n"
)
_TOKEN = re.compile(TokenConverter.regex)
_PROBE_TOKEN = "aaaa"
_MAX_SEGMENTS = 16
# How long a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 5

logger = logging.getLogger(__name__)


def ocs_error_json(request: HttpRequest, status: int, *, data: Any = None, message: str = "") -> JsonResponse:
    """An error envelope (``data: []`` unless given) for ``request``'s OCS version. Every OCS
    error built here with the same arguments is byte for byte the same, headers included."""
    body, wire_status = ocs_envelope(data, http_status=status, message=message, v1=is_ocs_v1(request.path))
    response = JsonResponse(
        body, status=wire_status, content_type=CONTENT_TYPE, safe=False, json_dumps_params=JSON_PARAMS
    )
    response.ocs_status = status  # type: ignore[attr-defined]  # read by the brute-force guard
    return response


def is_malformed_token_path(path: str) -> bool:
    """Whether ``path`` would reach a real route if one of its segments were a well-formed token:
    ``/v4/room/ZZZ`` is a conversation lookup with a token outside Talk's pattern, not an
    unknown route."""
    segments = path.split("/")
    if len(segments) > _MAX_SEGMENTS:
        return False
    for index in range(3, len(segments)):  # after "", "ocs", "v2.php"
        if _TOKEN.fullmatch(segments[index]):
            continue
        candidate = "/".join([*segments[:index], _PROBE_TOKEN, *segments[index + 1 :]])
        try:
            match = resolve(candidate)
        except Resolver404:
            continue
        if match.func is not ocs_not_found:
            return True
    return False


def ocs_unknown_route(request: HttpRequest) -> JsonResponse:
    """Nextcloud's answer to an unknown OCS route: v2 HTTP 404 with statuscode 404, v1 HTTP 200
    with statuscode 998, and its "Invalid query" message. It probes no secret, so the
    brute-force guard does not count it (issue 10)."""
    status = UNKNOWN_ROUTE_STATUSCODE if is_ocs_v1(request.path) else 404
    response = ocs_error_json(request, status, message=UNKNOWN_ROUTE_MESSAGE)
    response.ocs_status = 404  # type: ignore[attr-defined]  # read by the brute-force guard
    response.ocs_unknown_route = True  # type: ignore[attr-defined]
    return response


@csrf_exempt
def ocs_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """No route under /ocs/ matched. A token that fails Talk's route pattern answers exactly like
    an unknown or foreign well-formed token (404, contract decision 13); anything else is an
    unknown route and answers as Nextcloud does."""
    if is_malformed_token_path(request.path_info):
        return ocs_error_json(request, 404)
    return ocs_unknown_route(request)


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_ocs_path(request.path):
        return ocs_error_json(request, 400)
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_ocs_path(request.path):
        return ocs_error_json(request, 403)
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_ocs_path(request.path):
        return ocs_error_json(request, 404)
    return defaults.page_not_found(request, exception)


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the database cannot be reached, rather than that a query failed:
    Django's ``InterfaceError`` (the connection is already closed), or an ``OperationalError``
    from psycopg without an SQLSTATE (connection refused, server closed the connection) or with
    one of the classes 08 (connection exception) and 57P (the server is shutting down, restarting
    or not accepting connections yet). Deadlocks, lock timeouts and SQLite's "database is
    locked" are not: they stay 500s, as the defects they are."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if cause is None or not type(cause).__module__.startswith("psycopg"):
        return False
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(("08", "57P"))


def database_unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """503 with ``Retry-After`` (in the OCS envelope under /ocs/, plain text elsewhere) for a
    request that found the database down: the service is temporarily unavailable, not broken."""
    logger.warning("Database unavailable on %s %s: %s", request.method, request.path, exc)
    message = "Service Unavailable"
    if is_ocs_path(request.path):
        response: HttpResponse = ocs_error_json(request, 503, message=message)
    else:
        response = HttpResponse(message + "\n", status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def handler500(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its ``except`` block, so the exception is still at hand; that
    # covers the middleware (the brute-force guard's counters, sessions) as well as the views.
    exc = sys.exc_info()[1]
    if is_database_unavailable(exc):
        assert exc is not None
        return database_unavailable_response(request, exc)
    if is_ocs_path(request.path):
        return ocs_error_json(request, 500, message="Internal Server Error")
    return defaults.server_error(request)
