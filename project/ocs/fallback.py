from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from project.ocs.renderers import is_ocs_v1, ocs_envelope


def ocs_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """An unknown route under /ocs/ still answers in the OCS envelope."""
    body, status = ocs_envelope(None, http_status=404, message="", v1=is_ocs_v1(request.path))
    return JsonResponse(body, status=status)
