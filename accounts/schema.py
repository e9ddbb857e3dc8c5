"""OpenAPI security schemes of the authentication classes (registered in ``AccountsConfig.ready``)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class OCSBasicAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.OCSBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "basic",
            "description": "User id and password, or user id and app password",
        }


class OCSSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.OCSSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "Django session; requests must also send the header OCS-APIRequest: true",
        }
