"""Strict request parameters, read from the URL query, a form body or a JSON body alike.

Talk clients send GET and DELETE parameters in the query string, the web client sends JSON
bodies and Talk's integration tests send form bodies. Integers may be JSON numbers or decimal
strings; anything else (``"3x"``, ``1.5``, ``true``, a missing value) is a 400 with the error
key of that parameter, never a PHP-style coercion to 0 (contract, decision 3).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.request import Request

from project.errors import BadRequest

_INTEGER = re.compile(r"-?[0-9]{1,18}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_MISSING = object()


class Params:
    """The merged parameters of one request: body values win over query values."""

    def __init__(self, request: Request) -> None:
        merged: dict[str, Any] = {}
        for key in request.query_params:
            merged[key] = request.query_params.get(key)
        body = self._body(request)
        if isinstance(body, Mapping):
            getter = body.get
            for key in body:
                merged[key] = getter(key)
        self._values = merged

    @staticmethod
    def _body(request: Request) -> Any:
        # A body that cannot be parsed carries no parameters: the first required parameter then
        # answers with its own error key, as if it had not been sent.
        try:
            return request.data
        except (ParseError, UnsupportedMediaType):
            return {}
        except RequestDataTooBig:
            raise

    def raw(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def int(self, name: str, *, error: str | None = None, default: Any = _MISSING) -> int:
        value = self._values.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is not _MISSING:
                return default
            raise BadRequest(error or name)
        parsed = parse_strict_int(value)
        if parsed is None:
            raise BadRequest(error or name)
        return parsed

    def str(
        self, name: builtins.str, *, error: builtins.str | None = None, default: Any = _MISSING, allow_nul: bool = False
    ) -> builtins.str:
        """A string parameter. NUL characters are refused unless ``allow_nul``: pass it only where
        the service trims them away like PHP and refuses what remains (chat messages)."""
        value = self._values.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is not _MISSING:
                return default
            raise BadRequest(error or name)
        # PostgreSQL text cannot hold NUL characters: refusing them here keeps every string
        # parameter storable on both databases (a 400 with the parameter's key, not a 500).
        if not isinstance(value, str) or (not allow_nul and "\x00" in value):
            raise BadRequest(error or name)
        return value

    def bool(self, name: builtins.str, *, error: builtins.str | None = None, default: Any = _MISSING) -> bool:
        value = self._values.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is not _MISSING:
                return default
            raise BadRequest(error or name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            if value in (0, 1):
                return bool(value)
            raise BadRequest(error or name)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise BadRequest(error or name)


def parse_strict_int(value: Any) -> int | None:
    """An int from a JSON integer or a decimal string; None for anything else (bools, floats...)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None
