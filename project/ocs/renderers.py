"""The OCS envelope: every response under /ocs/ is wrapped as {"ocs": {"meta", "data"}}."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer

UNAUTHORISED_STATUSCODE = 997
V1_OK_STATUSCODE = 100


def php_empty_maps(value: Any) -> Any:
    """PHP encodes an empty associative array as ``[]``; so do we, at every depth."""
    if isinstance(value, dict):
        if not value:
            return []
        return {key: php_empty_maps(item) for key, item in value.items()}
    if isinstance(value, list):
        return [php_empty_maps(item) for item in value]
    return value


def is_ocs_v1(path: str) -> bool:
    return path.startswith("/ocs/v1.php/")


def ocs_envelope(data: Any, *, http_status: int, message: str | None, v1: bool) -> tuple[dict, int]:
    """Build the OCS body and the HTTP status to send on the wire.

    v2: meta.statuscode is the HTTP status, except 401 which carries 997.
    v1 (Nextcloud's OCS v1 semantics): HTTP 200 for everything but 401, meta.statuscode 100 on
    success and the error status otherwise.
    """
    ok = 200 <= http_status < 300
    if http_status == 401:
        statuscode = UNAUTHORISED_STATUSCODE
    elif v1 and ok:
        statuscode = V1_OK_STATUSCODE
    else:
        statuscode = http_status
    if message is None:
        message = "OK" if ok else ""
    wire_status = http_status if (not v1 or http_status == 401) else 200
    meta = {"status": "ok" if ok else "failure", "statuscode": statuscode, "message": message}
    return {"ocs": {"meta": meta, "data": php_empty_maps([] if data is None else data)}}, wire_status


class OCSJSONRenderer(JSONRenderer):
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        request = renderer_context.get("request")
        if response is None:  # rendering outside a request (schema generation, tests)
            return super().render(data, accepted_media_type, renderer_context)
        if getattr(response, "ocs_raw", False):
            return super().render(data, accepted_media_type, renderer_context)
        path = request.path if request is not None else ""
        body, wire_status = ocs_envelope(
            data,
            http_status=response.status_code,
            message=getattr(response, "ocs_message", None),
            v1=is_ocs_v1(path),
        )
        response.status_code = wire_status
        return super().render(body, accepted_media_type, renderer_context)
