"""The attendee map of contract 1.14: decoded by the serializer field, checked by the domain."""

from __future__ import annotations

from typing import Any

import pytest

from breakout.attendee_map import attendee_map_check
from breakout.serializers import attendee_map_decode
from project.errors import BadRequest


def attendee_map_parse(raw: Any, *, room_count: int) -> dict[int, int]:
    """Contract 1.14 as a whole: the wire decoding, then the check against the number of rooms."""
    return attendee_map_check(attendee_map_decode(raw), room_count=room_count)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", {}),
        ("{}", {}),
        ("[]", {}),
        ('{"17": 0, "18": 1}', {17: 0, 18: 1}),
        ('{"17": "1"}', {17: 1}),
        (' { "5" : 2 } ', {5: 2}),
    ],
)
def test_attendee_map_parse_accepts_valid_maps(raw: str, expected: dict[int, int]) -> None:
    assert attendee_map_parse(raw, room_count=3) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "{",
        '{"1": 0',
        "5",
        '"x"',
        "null",
        "true",
        '{"1": {"2": 0}}',
        '{"1": [0]}',
        "[[0]]",
        '{"1": null}',
        '{"1": 1.0}',
        '{"1": 1.5}',
        '{"1": true}',
        '{"1": "1x"}',
        '{"x": 0}',
        '{"1.5": 0}',
        '{"1": 3}',
        '{"1": -1}',
        '{"0": 0}',
        '{"-4": 0}',
        "[0, 1]",
        "[0]",
        '{"1": 1' + "0" * 5000 + "}",
        '{"' + "9" * 40 + '": 0}',
        "[" * 100_000 + "]" * 100_000,
        '{"1": ' + "[" * 50_000 + "]" * 50_000 + "}",
        "{" + ", ".join(f'"{i}": 0' for i in range(1, 200_000)) + "}",
    ],
    ids=lambda raw: raw[:30],
)
def test_attendee_map_parse_refuses_anything_else_with_attendee_map(raw: str) -> None:
    with pytest.raises(BadRequest) as error:
        attendee_map_parse(raw, room_count=3)

    assert error.value.key == "attendeeMap"


@pytest.mark.parametrize("raw", [None, 5, {"1": 0}, ["1"]])
def test_attendee_map_parse_refuses_non_strings(raw: Any) -> None:
    with pytest.raises(BadRequest) as error:
        attendee_map_parse(raw, room_count=3)

    assert error.value.key == "attendeeMap"


def test_attendee_map_parse_refuses_every_index_when_there_are_no_rooms() -> None:
    with pytest.raises(BadRequest):
        attendee_map_parse('{"1": 0}', room_count=0)
    assert attendee_map_parse("{}", room_count=0) == {}


def test_attendee_map_check_checks_a_decoded_map_like_a_raw_one() -> None:
    assert attendee_map_check({4: 1, 5: 0}, room_count=2) == {4: 1, 5: 0}
    with pytest.raises(BadRequest):
        attendee_map_check({4: 2}, room_count=2)
    with pytest.raises(BadRequest):
        attendee_map_check({0: 1}, room_count=2)
