"""OpenAPI generation for OCS endpoints (drf-spectacular).

- Every endpoint is documented once, under /ocs/v2.php/; the /ocs/v1.php/ aliases answer the
  same routes with OCS v1 status semantics and are left out of the schema.
- Operation ids come from the path (``apps_spreed_api_v4_room_by_token_get``), so a list and a
  detail view never collide.
- Views without a serializer are documented as answering the OCS envelope (the exact ``data``
  shapes are in the contract); a view can refine its schema with ``extend_schema``.
- Views read their parameters with input serializers (``project/ocs/inputs.py``) from the query,
  a form or a JSON body alike; ``extend_schema`` names the serializer, never its fields again:
  ``request=ocs_body(Input)`` for a body (documented as JSON and as a form),
  ``parameters=[Input]`` for the query parameters of GET and DELETE. The path parameter
  ``token`` carries Talk's route pattern everywhere.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from project.ocs.converters import TokenConverter

V1_PREFIX = "/ocs/v1.php/"
OCS_PREFIX = re.compile(r"^/ocs/v[12]\.php/")
PATH_PARAMETER = re.compile(r"^\{(\w+)\}$")
TOKEN_PATTERN = f"^{TokenConverter.regex}$"
BODY_MEDIA_TYPES = ("application/json", "application/x-www-form-urlencoded")


def ocs_envelope_schema(data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON schema of an OCS response whose ``data`` follows ``data`` (anything if None)."""
    return {
        "type": "object",
        "required": ["ocs"],
        "properties": {
            "ocs": {
                "type": "object",
                "required": ["meta", "data"],
                "properties": {
                    "meta": {
                        "type": "object",
                        "required": ["status", "statuscode", "message"],
                        "properties": {
                            "status": {"type": "string", "enum": ["ok", "failure"]},
                            "statuscode": {"type": "integer"},
                            "message": {"type": "string"},
                        },
                    },
                    "data": data or {},
                },
            }
        },
    }


def drop_ocs_v1_aliases(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """drf-spectacular preprocessing hook: document each OCS route once (v2)."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(V1_PREFIX)]


def ocs_body(serializer: type[serializers.Serializer]) -> dict[str, type[serializers.Serializer]]:
    """A request body read by ``serializer``: documented as JSON and as a form (Talk clients send both)."""
    return {media_type: serializer for media_type in BODY_MEDIA_TYPES}


def lib_doc_excludes() -> list[type]:
    """drf-spectacular's ``GET_LIB_DOC_EXCLUDES``: the bases whose docstrings describe the code, not
    an endpoint or a request body, so an operation or a component without its own docstring gets no
    description rather than the base's."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    from project.ocs.inputs import OcsInputSerializer
    from project.ocs.views import OCSView

    return [*get_lib_doc_excludes(), OCSView, OcsInputSerializer]


def query_param(name: str, kind: Any, *, description: str = "", **kwargs: Any) -> OpenApiParameter:
    """A query-string parameter (GET and DELETE requests)."""
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description, **kwargs)


def ocs_response(data: dict[str, Any] | None = None, description: str = "") -> OpenApiResponse:
    return OpenApiResponse(response=ocs_envelope_schema(data), description=description)


ROOM_LIST = {"type": "array", "items": {"type": "object"}}
ERROR_DATA = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


def ocs_responses(success: int = 200, data: dict[str, Any] | None = None, **errors: str) -> dict[int, Any]:
    """The success answer and the endpoint's own errors (``_400="mode, amount"``): HTTP status ->
    OCS envelope, errors with ``data: {"error": key}``."""
    responses: dict[int, Any] = {success: ocs_response(data)}
    for status, keys in errors.items():
        responses[int(status.lstrip("_"))] = ocs_response(ERROR_DATA, description=f"error keys: {keys}")
    return responses


class OCSAutoSchema(AutoSchema):
    def get_operation_id(self) -> str:
        path = OCS_PREFIX.sub("", self.path).strip("/")
        parts = []
        for part in path.split("/"):
            parameter = PATH_PARAMETER.match(part)
            parts.append(f"by_{parameter.group(1)}" if parameter else part)
        return re.sub(r"[^A-Za-z0-9_]", "_", "_".join([*parts, self.method.lower()]))

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        parameters.append(
            OpenApiParameter(
                "OCS-APIRequest",
                OpenApiTypes.BOOL,
                OpenApiParameter.HEADER,
                default=True,
                description="Must be true for requests authenticated by a session cookie (CSRF rule)",
            )
        )
        if "{token}" in self.path:
            parameters.append(
                OpenApiParameter(
                    "token",
                    OpenApiTypes.STR,
                    OpenApiParameter.PATH,
                    pattern=TOKEN_PATTERN,
                    description="Conversation token",
                )
            )
        return parameters

    def _has_serializer(self) -> bool:
        return hasattr(self.view, "get_serializer") or getattr(self.view, "serializer_class", None) is not None

    def get_request_serializer(self) -> Any:
        if not self._has_serializer():
            return None
        return super().get_request_serializer()

    def get_response_serializers(self) -> Any:
        if not self._has_serializer():
            return {200: ocs_envelope_schema()}
        return super().get_response_serializers()
