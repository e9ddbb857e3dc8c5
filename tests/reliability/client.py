"""Black-box callers for the reliability tests: DRF's APIClient with HTTP Basic auth.

Only URLs, parameters, status codes and bodies of the public API are used here (plus
``get_user_model()`` to create accounts), so the tests keep working while the services, views
and modules behind the API are reorganised.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

OCS = "/ocs/v2.php"
V4 = f"{OCS}/apps/spreed/api/v4"
V1 = f"{OCS}/apps/spreed/api/v1"


def user_create(username: str, password: str) -> Any:
    return get_user_model().objects.create_user(username=username, password=password)


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        import json

        return json.loads(self.body) if self.body else None

    @property
    def data(self) -> Any:
        return self.json()["ocs"]["data"]

    @property
    def error_key(self) -> str | None:
        try:
            data = self.data
        except (ValueError, KeyError, TypeError):
            return None
        return data.get("error") if isinstance(data, dict) else None


class Caller:
    """One HTTP identity: a user id and password (or app password), or anonymous."""

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self.username = username
        headers: dict[str, str] = {"HTTP_OCS_APIREQUEST": "true", "HTTP_ACCEPT": "application/json"}
        if username is not None and password is not None:
            headers["HTTP_AUTHORIZATION"] = basic_auth(username, password)
        self.client = APIClient(**headers)
        self.client.raise_request_exception = False

    def request(self, method: str, path: str, data: dict[str, Any] | None = None) -> Answer:
        call = getattr(self.client, method.lower())
        if method.upper() in ("GET", "DELETE"):
            response = call(path, data=data or None) if method.upper() == "GET" else call(path, QUERY_STRING=_qs(data))
        else:
            response = call(path, data=data or {}, format="json")
        body = response.content if not getattr(response, "streaming", False) else b"".join(response.streaming_content)
        return Answer(status=response.status_code, body=body, headers={k: v for k, v in response.items()})

    def get(self, path: str, data: dict[str, Any] | None = None) -> Answer:
        return self.request("GET", path, data)

    def post(self, path: str, data: dict[str, Any] | None = None) -> Answer:
        return self.request("POST", path, data)

    def put(self, path: str, data: dict[str, Any] | None = None) -> Answer:
        return self.request("PUT", path, data)

    def delete(self, path: str, data: dict[str, Any] | None = None) -> Answer:
        return self.request("DELETE", path, data)


def _qs(data: dict[str, Any] | None) -> str:
    from urllib.parse import urlencode

    return urlencode(data or {})
