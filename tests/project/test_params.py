"""Strict parameters (contract decision 3): query, form and JSON alike; never PHP coercion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from project.errors import BadRequest
from project.ocs.params import Params, parse_strict_int
from project.ocs.parsers import SafeJSONParser

factory = APIRequestFactory()


def params_of(method: str, path: str = "/ocs/v2.php/x", data: Any = None, content_type: str | None = None) -> Params:
    if content_type == "application/json" and not isinstance(data, bytes):
        raw = factory.generic(method, path, json.dumps(data), content_type=content_type)
    elif content_type is not None:
        raw = factory.generic(method, path, data, content_type=content_type)
    else:
        raw = factory.generic(method, path)
    from rest_framework.parsers import FormParser, MultiPartParser

    return Params(Request(raw, parsers=[SafeJSONParser(), FormParser(), MultiPartParser()]))


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
    params = params_of("GET", "/ocs/v2.php/x?mode=2&name=a")

    assert params.int("mode") == 2
    assert params.str("name") == "a"


def test_parameters_come_from_a_form_body() -> None:
    params = params_of("POST", data="mode=1&amount=3", content_type="application/x-www-form-urlencoded")

    assert (params.int("mode"), params.int("amount")) == (1, 3)


def test_parameters_come_from_a_json_body() -> None:
    params = params_of("POST", data={"mode": 1, "amount": "3", "flag": True}, content_type="application/json")

    assert (params.int("mode"), params.int("amount"), params.bool("flag")) == (1, 3, True)


def test_delete_parameters_come_from_the_query_string() -> None:
    assert params_of("DELETE", "/ocs/v2.php/x?attendeeId=7").int("attendeeId") == 7


def test_body_values_win_over_query_values() -> None:
    params = params_of("POST", "/ocs/v2.php/x?mode=1", data={"mode": 2}, content_type="application/json")

    assert params.int("mode") == 2


@pytest.mark.parametrize("body", [[1, 2], "text", 3, None])
def test_a_json_body_that_is_not_an_object_carries_no_parameters(body: Any) -> None:
    params = params_of("POST", data=body, content_type="application/json")

    assert "mode" not in params
    with pytest.raises(BadRequest) as error:
        params.int("mode")
    assert error.value.key == "mode"


def test_an_unparsable_body_reads_as_missing_parameters() -> None:
    params = params_of("POST", data=b'{"mode": ', content_type="application/json")

    with pytest.raises(BadRequest) as error:
        params.int("mode")
    assert error.value.key == "mode"


@pytest.mark.parametrize("body", [b'{"roomName": "a\\ud800b"}', b'{"\\udfff": 1, "roomName": "ok"}', b'["\\udc00"]'])
def test_a_json_body_with_a_lone_surrogate_reads_as_missing_parameters(body: bytes) -> None:
    params = params_of("POST", data=body, content_type="application/json")

    with pytest.raises(BadRequest) as error:
        params.str("roomName")
    assert error.value.key == "roomName"


def test_a_json_body_with_a_surrogate_pair_is_read_as_its_character() -> None:
    params = params_of("POST", data=b'{"roomName": "\\ud83d\\ude00"}', content_type="application/json")

    assert params.str("roomName") == "\N{GRINNING FACE}"


@pytest.mark.parametrize("value", ["3x", "1.5", "true", "", " "])
def test_a_bad_integer_is_400_with_the_parameters_key(value: str) -> None:
    params = params_of("GET", f"/ocs/v2.php/x?amount={value}")

    with pytest.raises(BadRequest) as error:
        params.int("amount")
    assert error.value.key == "amount"
    assert error.value.status_code == 400


def test_the_error_key_can_differ_from_the_parameter_name() -> None:
    with pytest.raises(BadRequest) as error:
        params_of("GET").int("attendeeMap", error="attendeeMap-invalid")
    assert error.value.key == "attendeeMap-invalid"


def test_defaults_apply_only_to_missing_parameters() -> None:
    params = params_of("GET", "/ocs/v2.php/x?limit=abc")

    assert params.int("offset", default=0) == 0
    assert params.str("name", default="") == ""
    with pytest.raises(BadRequest):
        params.int("limit", default=100)


def test_a_json_null_counts_as_missing() -> None:
    params = params_of("POST", data={"mode": None}, content_type="application/json")

    assert params.int("mode", default=5) == 5
    with pytest.raises(BadRequest):
        params.int("mode")


def test_str_refuses_non_strings() -> None:
    params = params_of("POST", data={"name": 5, "list": ["a"]}, content_type="application/json")

    for name in ("name", "list"):
        with pytest.raises(BadRequest) as error:
            params.str(name)
        assert error.value.key == name


def test_str_refuses_a_nul_character_unless_the_caller_trims_it_away() -> None:
    params = params_of("POST", data={"roomName": "a\x00b", "message": "\x00hi\x00"}, content_type="application/json")

    with pytest.raises(BadRequest) as error:
        params.str("roomName")
    assert error.value.key == "roomName"
    assert params.str("message", allow_nul=True) == "\x00hi\x00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("true", True), ("0", False), ("yes", True), ("off", False)],
)
def test_bool_accepts_the_usual_spellings(value: Any, expected: bool) -> None:
    params = params_of("POST", data={"flag": value}, content_type="application/json")

    assert params.bool("flag") is expected


@pytest.mark.parametrize("value", [2, -1, "maybe", 1.0, [], {}])
def test_bool_refuses_anything_else(value: Any) -> None:
    params = params_of("POST", data={"flag": value}, content_type="application/json")

    with pytest.raises(BadRequest) as error:
        params.bool("flag")
    assert error.value.key == "flag"


def test_names_are_case_sensitive() -> None:
    params = params_of("GET", "/ocs/v2.php/x?Mode=1")

    assert "Mode" in params
    assert "mode" not in params


def test_a_repeated_query_parameter_uses_its_last_value() -> None:
    assert params_of("GET", "/ocs/v2.php/x?mode=1&mode=2").int("mode") == 2
