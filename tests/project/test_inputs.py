"""Strict parameters (contract decision 3): query, form and JSON alike; never PHP coercion. The
input layer of every endpoint: ``request_parameters``, the strict fields and ``OcsInputSerializer``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from project.errors import BadRequest, Forbidden
from project.ocs.inputs import (
    OcsInputSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    parse_strict_int,
    request_parameters,
)
from project.ocs.parsers import SafeJSONParser

factory = APIRequestFactory()


def parameters_of(
    method: str, path: str = "/ocs/v2.php/x", data: Any = None, content_type: str | None = None
) -> dict[str, Any]:
    if content_type == "application/json" and not isinstance(data, bytes):
        raw = factory.generic(method, path, json.dumps(data), content_type=content_type)
    elif content_type is not None:
        raw = factory.generic(method, path, data, content_type=content_type)
    else:
        raw = factory.generic(method, path)
    return request_parameters(Request(raw, parsers=[SafeJSONParser(), FormParser(), MultiPartParser()]))


def validated(parameters: dict[str, Any], **fields: serializers.Field) -> dict[str, Any]:
    """The typed values of ``parameters`` read by an input serializer with ``fields``."""
    serializer_class = type("Input", (OcsInputSerializer,), dict(fields))
    serializer = serializer_class(data=parameters)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def error_key_of(parameters: dict[str, Any], **fields: serializers.Field) -> str | None:
    with pytest.raises(BadRequest) as error:
        validated(parameters, **fields)
    assert error.value.status_code == 400
    return error.value.key


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        ("3", 3),
        ("-2", -2),
        ("0", 0),
        (0, 0),
        ("3x", None),
        ("", None),
        (" 3", None),
        ("3.0", None),
        (1.5, None),
        (2.0, None),
        (True, None),
        (False, None),
        (None, None),
        ([], None),
        ({}, None),
        ("1" * 19, None),
        ("١٢", None),  # Arabic-Indic digits: not decimal ASCII
    ],
)
def test_strict_int_accepts_only_integers_and_decimal_strings(value: Any, expected: int | None) -> None:
    assert parse_strict_int(value) == expected


def test_parameters_come_from_the_query_string_for_get() -> None:
    parameters = parameters_of("GET", "/ocs/v2.php/x?mode=2&name=a")

    assert validated(parameters, mode=StrictIntegerField(), name=StrictCharField()) == {"mode": 2, "name": "a"}


def test_parameters_come_from_a_form_body() -> None:
    parameters = parameters_of("POST", data="mode=1&amount=3", content_type="application/x-www-form-urlencoded")

    assert validated(parameters, mode=StrictIntegerField(), amount=StrictIntegerField()) == {"mode": 1, "amount": 3}


def test_parameters_come_from_a_json_body() -> None:
    parameters = parameters_of("POST", data={"mode": 1, "amount": "3", "flag": True}, content_type="application/json")

    assert validated(parameters, mode=StrictIntegerField(), amount=StrictIntegerField(), flag=StrictBooleanField()) == {
        "mode": 1,
        "amount": 3,
        "flag": True,
    }


def test_delete_parameters_come_from_the_query_string() -> None:
    assert validated(parameters_of("DELETE", "/ocs/v2.php/x?attendeeId=7"), attendeeId=StrictIntegerField()) == {
        "attendeeId": 7
    }


def test_body_values_win_over_query_values() -> None:
    parameters = parameters_of("POST", "/ocs/v2.php/x?mode=1", data={"mode": 2}, content_type="application/json")

    assert validated(parameters, mode=StrictIntegerField()) == {"mode": 2}


@pytest.mark.parametrize("body", [[1, 2], "text", 3, None])
def test_a_json_body_that_is_not_an_object_carries_no_parameters(body: Any) -> None:
    parameters = parameters_of("POST", data=body, content_type="application/json")

    assert "mode" not in parameters
    assert error_key_of(parameters, mode=StrictIntegerField()) == "mode"


def test_an_unparsable_body_reads_as_missing_parameters() -> None:
    parameters = parameters_of("POST", data=b'{"mode": ', content_type="application/json")

    assert error_key_of(parameters, mode=StrictIntegerField()) == "mode"


@pytest.mark.parametrize("body", [b'{"roomName": "a\\ud800b"}', b'{"\\udfff": 1, "roomName": "ok"}', b'["\\udc00"]'])
def test_a_json_body_with_a_lone_surrogate_reads_as_missing_parameters(body: bytes) -> None:
    parameters = parameters_of("POST", data=body, content_type="application/json")

    assert error_key_of(parameters, roomName=StrictCharField()) == "roomName"


def test_a_json_body_with_a_surrogate_pair_is_read_as_its_character() -> None:
    parameters = parameters_of("POST", data=b'{"roomName": "\\ud83d\\ude00"}', content_type="application/json")

    assert validated(parameters, roomName=StrictCharField()) == {"roomName": "\N{GRINNING FACE}"}


@pytest.mark.parametrize("value", ["3x", "1.5", "true", "", " "])
def test_a_bad_integer_is_400_with_the_parameters_key(value: str) -> None:
    parameters = parameters_of("GET", f"/ocs/v2.php/x?amount={value}")

    assert error_key_of(parameters, amount=StrictIntegerField()) == "amount"


def test_the_error_key_can_differ_from_the_parameter_name() -> None:
    class AttendeeMapInput(OcsInputSerializer):
        error_keys = {"attendeeMap": "attendeeMap-invalid"}
        attendeeMap = StrictCharField()

    with pytest.raises(BadRequest) as error:
        AttendeeMapInput(data={}).is_valid(raise_exception=True)
    assert error.value.key == "attendeeMap-invalid"


def test_the_first_field_in_declaration_order_answers() -> None:
    parameters = {"amount": "x", "mode": "y"}

    assert error_key_of(parameters, mode=StrictIntegerField(), amount=StrictIntegerField()) == "mode"
    assert error_key_of(parameters, amount=StrictIntegerField(), mode=StrictIntegerField()) == "amount"


def test_state_checks_come_before_every_parameter() -> None:
    class StateFirstInput(OcsInputSerializer):
        mode = StrictIntegerField()

        def check_state(self) -> None:
            raise Forbidden("state")

    with pytest.raises(Forbidden):
        StateFirstInput(data={"mode": "bad"}).is_valid(raise_exception=True)


def test_defaults_apply_only_to_missing_parameters() -> None:
    parameters = parameters_of("GET", "/ocs/v2.php/x?limit=abc")

    assert validated({}, offset=StrictIntegerField(required=False, default=0)) == {"offset": 0}
    assert validated({}, name=StrictCharField(required=False, default="")) == {"name": ""}
    assert error_key_of(parameters, limit=StrictIntegerField(required=False, default=100)) == "limit"


def test_a_json_null_counts_as_missing() -> None:
    parameters = parameters_of("POST", data={"mode": None}, content_type="application/json")

    assert validated(parameters, mode=StrictIntegerField(required=False, default=5)) == {"mode": 5}
    assert error_key_of(parameters, mode=StrictIntegerField()) == "mode"


@pytest.mark.parametrize("name", ["name", "list"])
def test_strings_refuse_non_strings(name: str) -> None:
    parameters = parameters_of("POST", data={"name": 5, "list": ["a"]}, content_type="application/json")

    assert error_key_of(parameters, **{name: StrictCharField()}) == name


def test_strings_refuse_a_nul_character_unless_the_caller_trims_it_away() -> None:
    parameters = parameters_of(
        "POST", data={"roomName": "a\x00b", "message": "\x00hi\x00"}, content_type="application/json"
    )

    assert error_key_of(parameters, roomName=StrictCharField()) == "roomName"
    assert validated(parameters, message=StrictCharField(allow_nul=True)) == {"message": "\x00hi\x00"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("true", True), ("0", False), ("yes", True), ("off", False)],
)
def test_booleans_accept_the_usual_spellings(value: Any, expected: bool) -> None:
    parameters = parameters_of("POST", data={"flag": value}, content_type="application/json")

    assert validated(parameters, flag=StrictBooleanField())["flag"] is expected


@pytest.mark.parametrize("value", [2, -1, "maybe", 1.0, [], {}])
def test_booleans_refuse_anything_else(value: Any) -> None:
    parameters = parameters_of("POST", data={"flag": value}, content_type="application/json")

    assert error_key_of(parameters, flag=StrictBooleanField()) == "flag"


def test_names_are_case_sensitive() -> None:
    parameters = parameters_of("GET", "/ocs/v2.php/x?Mode=1")

    assert "Mode" in parameters
    assert "mode" not in parameters


def test_a_repeated_query_parameter_uses_its_last_value() -> None:
    assert validated(parameters_of("GET", "/ocs/v2.php/x?mode=1&mode=2"), mode=StrictIntegerField()) == {"mode": 2}
