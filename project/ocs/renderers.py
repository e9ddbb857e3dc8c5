"""The OCS envelope: every response under /ocs/ is wrapped as {"ocs": {"meta", "data"}}.

The status semantics follow Nextcloud's ``V2Response`` and ``V1Response``
(lib/private/AppFramework/OCS):

- v2 (``/ocs/v2.php/``): the HTTP status is sent as is and repeated in ``meta.statuscode``,
  except "not logged in": HTTP 401 with ``meta.statuscode`` 997. ``meta.status`` is ``ok`` for
  2xx, ``meta.message`` is ``OK`` for 2xx and the error text (usually ``""``) otherwise.
- v1 (``/ocs/v1.php/``): the HTTP status is 200 for everything except 401. ``meta.statuscode``
  is 100 where v2 would say 200 and the original status otherwise; ``meta.status`` and
  ``meta.message`` are ``ok``/``OK`` only for statuscode 100, so a v1 "201 Created" reads
  ``failure`` with statuscode 201, exactly as Nextcloud sends it. v1 meta also carries
  ``totalitems`` and ``itemsperpage`` as (empty) strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from rest_framework.compat import SHORT_SEPARATORS
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.utils import encoders

UNAUTHORISED_STATUSCODE = 997
V1_OK_STATUSCODE = 100
OCS_PREFIX = "/ocs/"


class JsonObject(dict):
    """A map that Talk sends as an object even when empty (PHP's ``stdClass``)."""


def php_empty_maps(value: Any) -> Any:
    """PHP encodes an empty associative array as ``[]``; so do we, at every depth. (Leaves are
    passed through without a call: a list of 50 rooms has thousands of them.)"""
    if isinstance(value, dict):
        if not value:
            return {} if isinstance(value, JsonObject) else []
        return {key: php_empty_maps(item) if isinstance(item, (dict, list)) else item for key, item in value.items()}
    if isinstance(value, list):
        return [php_empty_maps(item) if isinstance(item, (dict, list)) else item for item in value]
    return value


def is_ocs_path(path: str) -> bool:
    return path.startswith(OCS_PREFIX)


def is_ocs_v1(path: str) -> bool:
    return path.startswith("/ocs/v1.php/")


def ocs_meta(*, http_status: int, message: str | None, v1: bool) -> tuple[dict[str, Any], int]:
    """The OCS ``meta`` object and the HTTP status to send on the wire (see the module docstring)."""
    if v1:
        if http_status == 401:
            statuscode, wire_status = UNAUTHORISED_STATUSCODE, 401
        else:
            statuscode, wire_status = (V1_OK_STATUSCODE if http_status == 200 else http_status), 200
        ok = statuscode == V1_OK_STATUSCODE
    else:
        statuscode = UNAUTHORISED_STATUSCODE if http_status == 401 else http_status
        wire_status = http_status
        ok = 200 <= http_status < 300
    meta: dict[str, Any] = {
        "status": "ok" if ok else "failure",
        "statuscode": statuscode,
        "message": "OK" if ok else (message or ""),
    }
    if v1:
        meta["totalitems"] = ""
        meta["itemsperpage"] = ""
    return meta, wire_status


def ocs_envelope(data: Any, *, http_status: int, message: str | None, v1: bool) -> tuple[dict, int]:
    """Build the OCS body and the HTTP status to send on the wire (see the module docstring)."""
    meta, wire_status = ocs_meta(http_status=http_status, message=message, v1=v1)
    return {"ocs": {"meta": meta, "data": php_empty_maps([] if data is None else data)}}, wire_status


@cache
def _compact_encoder(ensure_ascii: bool, allow_nan: bool) -> Callable[[Any], str]:
    """``encode`` of the encoder ``JSONRenderer.render`` makes through ``json.dumps`` without an
    indent (DRF's encoder class, compact separators): the same C encoder, created once. (It keeps
    no state between calls, so the threads of a worker share it.)"""
    return encoders.JSONEncoder(ensure_ascii=ensure_ascii, allow_nan=allow_nan, separators=SHORT_SEPARATORS).encode


class OCSJSONRenderer(JSONRenderer):
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        request = renderer_context.get("request")
        if response is None:  # rendering outside a request (schema generation, tests)
            return super().render(data, accepted_media_type, renderer_context)
        if getattr(response, "ocs_raw", False):
            return super().render(data, accepted_media_type, renderer_context)
        path = request.path if request is not None else ""
        # The logical status, before v1 folds it into HTTP 200 (read by the brute-force guard).
        response.ocs_status = response.status_code
        meta, wire_status = ocs_meta(
            http_status=response.status_code, message=getattr(response, "ocs_message", None), v1=is_ocs_v1(path)
        )
        response.status_code = wire_status
        data = [] if data is None else data
        if not self.compact or self.get_indent(accepted_media_type or "", renderer_context) is not None:
            body = {"ocs": {"meta": meta, "data": php_empty_maps(data)}}
            return super().render(body, accepted_media_type, renderer_context)
        # The same bytes as ``super().render(ocs_envelope(...))``, without walking the data to
        # rebuild it: an empty map anywhere encodes as ``{}``, so data whose encoding holds no
        # ``{}`` has none and is sent as it is; otherwise (or when a string holds ``{}``) it is
        # encoded again after ``php_empty_maps``. The envelope around it is joined as text.
        encode = _compact_encoder(self.ensure_ascii, not self.strict)
        text = encode(data)
        if "{}" in text:
            text = encode(php_empty_maps(data))
        text = '{"ocs":{"meta":' + encode(meta) + ',"data":' + text + "}}"
        # As JSONRenderer: U+2028/U+2029 escaped, JSON stays a strict JavaScript subset.
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


class OCSContentNegotiation(DefaultContentNegotiation):
    """Under /ocs/ the answer is always the JSON envelope, whatever ``Accept`` or ``?format=``
    asks for (the clients in scope ask for JSON; Nextcloud's XML flavour is not offered), so
    content negotiation never turns into a 404 or 406. Elsewhere DRF's negotiation applies."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        if is_ocs_path(request.path):
            for renderer in renderers:
                if isinstance(renderer, OCSJSONRenderer):
                    return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)
