"""Maps every error (ours and DRF's) to the OCS envelope in one place."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from project.errors import ServiceError

logger = logging.getLogger(__name__)

NOT_LOGGED_IN = "Current user is not logged in"


def ocs_error_response(status_code: int, data: Any = None, message: str = "") -> Response:
    response = Response([] if data is None else data, status=status_code)
    response.ocs_message = message  # type: ignore[attr-defined]  # read by the OCS renderer
    return response


def ocs_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ServiceError):
        response = ocs_error_response(exc.status_code, exc.data, exc.message)
        # A 404 that probes no secret (e.g. a missing message id in a room the caller is in)
        # sets ``counts_as_probe = False`` so the brute-force guard does not count it.
        response.bruteforce_counted = getattr(exc, "counts_as_probe", True)  # type: ignore[attr-defined]
        # A 401 without credentials that still guessed a secret (a bot's signature) counts too.
        response.bruteforce_failure = getattr(exc, "counts_as_failure", False)  # type: ignore[attr-defined]
        return response
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return ocs_error_response(401, message=NOT_LOGGED_IN)
    if isinstance(exc, (Http404, drf.NotFound)):
        return ocs_error_response(404)
    if isinstance(exc, (DjangoPermissionDenied, drf.PermissionDenied)):
        return ocs_error_response(403)
    if isinstance(exc, RequestDataTooBig):
        return ocs_error_response(413)
    if isinstance(exc, SuspiciousOperation):  # e.g. too many form fields
        return ocs_error_response(400)
    if isinstance(exc, drf.Throttled):
        response = ocs_error_response(429)
        wait = getattr(exc, "wait", None)  # set by Throttled.__init__, not declared in the stubs
        if wait:
            response["Retry-After"] = str(int(wait))
        return response
    if isinstance(exc, drf.ValidationError):
        detail = exc.detail
        key = next(iter(detail), None) if isinstance(detail, dict) else None
        return ocs_error_response(400, {"error": key} if key else None)
    if isinstance(exc, drf.APIException):
        return ocs_error_response(exc.status_code)
    return None
