"""OpenAPI generation for OCS endpoints (drf-spectacular).

- Every endpoint is documented once, under /ocs/v2.php/; the /ocs/v1.php/ aliases answer the
  same routes with OCS v1 status semantics and are left out of the schema.
- Operation ids come from the path (``apps_spreed_api_v4_room_by_token_get``), so a list and a
  detail view never collide.
- Views without a serializer are documented as answering the OCS envelope (the exact ``data``
  shapes are in the contract); a view can refine its schema with ``extend_schema``.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

V1_PREFIX = "/ocs/v1.php/"
OCS_PREFIX = re.compile(r"^/ocs/v[12]\.php/")
PATH_PARAMETER = re.compile(r"^\{(\w+)\}$")


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


class OCSAutoSchema(AutoSchema):
    def get_operation_id(self) -> str:
        path = OCS_PREFIX.sub("", self.path).strip("/")
        parts = []
        for part in path.split("/"):
            parameter = PATH_PARAMETER.match(part)
            parts.append(f"by_{parameter.group(1)}" if parameter else part)
        return re.sub(r"[^A-Za-z0-9_]", "_", "_".join([*parts, self.method.lower()]))

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


class OCSBasicAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "project.authentication.OCSBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "basic",
            "description": "User id and password, or user id and app password",
        }


class OCSSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "project.authentication.OCSSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "Django session; requests must also send the header OCS-APIRequest: true",
        }
