"""OCS answers produced outside DRF: unknown routes and Django's own error handlers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from project.ocs.renderers import is_ocs_path, is_ocs_v1, ocs_envelope

CONTENT_TYPE = "application/json; charset=utf-8"


def ocs_error_json(request: HttpRequest, status: int, *, message: str = "") -> JsonResponse:
    """An error envelope with ``data: []`` for ``request``'s OCS version."""
    body, wire_status = ocs_envelope(None, http_status=status, message=message, v1=is_ocs_v1(request.path))
    response = JsonResponse(body, status=wire_status, content_type=CONTENT_TYPE)
    response.ocs_status = status  # type: ignore[attr-defined]  # read by the brute-force guard
    return response


@csrf_exempt
def ocs_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """An unknown route under /ocs/ answers like an unknown token: 404, ``data: []``
    (Nextcloud sends statuscode 998 here; we keep 404 so that a token that fails the route
    pattern cannot be told apart from an unknown one, contract decision 13)."""
    return ocs_error_json(request, 404)


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


def handler500(request: HttpRequest) -> HttpResponse:
    if is_ocs_path(request.path):
        return ocs_error_json(request, 500, message="Internal Server Error")
    return defaults.server_error(request)
