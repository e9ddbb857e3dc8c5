"""Typed request input: strict DRF fields and the base of every input serializer.

Talk clients send parameters in the URL query, a form body or a JSON body alike, so an input
serializer reads the merged parameters of the request (``request_parameters``). Fields are
strict (contract, decision 3): an integer is a JSON number or a decimal string, never ``true``,
``1.5`` or ``"3x"``; strings are strings without NUL characters (PostgreSQL cannot store them).

Validation follows the contract's order exactly:

1. ``check_state()``: the state checks the contract orders before any parameter (e.g. "breakout
   rooms are disabled", "this is a breakout room"). They call the same domain guards the service
   runs again under the tree lock, so the first answer is the contract's and a race still ends in
   the right error.
2. The fields in declaration order; the first one that fails answers 400 with its error key (the
   field's ``error_key``, else its wire name), or the ``ServiceError`` a validator raises (413
   for an over-long message, say).
3. ``validate()`` for checks across fields.

The view then passes ``serializer.validated_data`` to one service as typed keyword arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.exceptions import RequestDataTooBig
from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.fields import SkipField, empty
from rest_framework.request import Request

from project.errors import BadRequest

_INTEGER = re.compile(r"-?[0-9]{1,18}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def request_parameters(request: Request) -> dict[str, Any]:
    """The merged parameters of one request: body values win over query values. A body that
    cannot be parsed carries no parameters, so the first required field answers with its own
    error key, as if it had not been sent."""
    merged: dict[str, Any] = {key: request.query_params.get(key) for key in request.query_params}
    try:
        body = request.data
    except (ParseError, UnsupportedMediaType):
        body = {}
    except RequestDataTooBig:
        raise
    if isinstance(body, Mapping):
        for key in body:
            merged[key] = body.get(key)
    return merged


def parse_strict_int(value: Any) -> int | None:
    """An int from a JSON integer or a decimal string; None for anything else (bools, floats...)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer or a decimal string; bools, floats and ``"3x"`` are invalid."""

    def to_internal_value(self, data: Any) -> int:
        value = parse_strict_int(data)
        if value is None:
            self.fail("invalid")
        return super().to_internal_value(value)


class StrictCharField(serializers.CharField):
    """A string as sent (no coercion of numbers, no trimming unless asked) without NUL characters.
    ``allow_nul=True`` only where the service trims NULs away like PHP (chat messages)."""

    default_error_messages = {"nul": "NUL characters are not allowed.", "type": "A string is required."}

    def __init__(self, *, allow_nul: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("allow_blank", True)
        self.allow_nul = allow_nul
        super().__init__(**kwargs)
        if allow_nul:  # DRF's CharField always adds a validator that refuses NUL characters
            self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("type")
        if not self.allow_nul and "\x00" in data:
            self.fail("nul")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """``true``/``false``, 0/1, or one of the strings 1/0, true/false, yes/no, on/off, ''."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, int):
            if data in (0, 1):
                return bool(data)
            self.fail("invalid", input=data)
        if isinstance(data, str):
            text = data.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        self.fail("invalid", input=data)
        raise AssertionError("unreachable")


class OcsInputSerializer(serializers.Serializer):
    """Base of the input serializers: state checks first, then fields in declaration order, the
    first failure answering with its contract error key. Subclasses may map field names to error
    keys in ``error_keys`` where the contract's key differs from the wire name."""

    error_keys: ClassVar[Mapping[str, str]] = {}

    def check_state(self) -> None:
        """State checks that the contract orders before the parameters (raise ServiceError)."""

    def error_key(self, field_name: str) -> str:
        return self.error_keys.get(field_name, field_name)

    def run_validation(self, data: Any = empty) -> Any:
        self.check_state()
        # A JSON ``null`` counts as a missing parameter, as Talk's PHP reads it.
        data = {key: value for key, value in data.items() if value is not None} if isinstance(data, Mapping) else {}
        values: dict[str, Any] = {}
        for field in self._writable_fields:
            assert field.field_name is not None and field.source is not None  # set when the field was bound
            primitive = field.get_value(data)
            try:
                validated = field.run_validation(primitive)
            except serializers.ValidationError:
                raise BadRequest(self.error_key(field.field_name)) from None
            except SkipField:
                continue
            values[field.source] = validated
        try:
            return self.validate(values)
        except serializers.ValidationError as exc:
            detail = exc.detail
            key = next(iter(detail), None) if isinstance(detail, dict) else None
            raise BadRequest(self.error_key(str(key)) if key else None) from None

    @classmethod
    def from_request(cls, request: Request, **context: Any) -> dict[str, Any]:
        """Validate the request's parameters and return the typed values."""
        serializer = cls(data=request_parameters(request), context={"request": request, **context})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
