"""Parsing of the ``attendeeMap`` parameter (contract 1.14).

The map is a JSON object sent as a string: parent attendee id -> 0-based breakout room index.
Every way it can be wrong answers 400 ``attendeeMap``; no input, however large or deeply nested,
gets past this module as anything but a flat ``dict[int, int]`` or that error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from project.errors import BadRequest
from project.ocs.params import parse_strict_int

ERROR_KEY = "attendeeMap"
# A map of every attendee of a very large class is well under this; anything longer is refused
# before it reaches the JSON parser.
MAX_RAW_LENGTH = 1_000_000


def attendee_map_parse(raw: Any, *, room_count: int) -> dict[int, int]:
    """Parse ``raw`` into {parent attendee id: room index}, or raise ``BadRequest("attendeeMap")``.

    Rules, in the contract's order: "" is an empty map; invalid JSON, nesting, and scalars are
    refused; ``{}``/``[]`` are empty; keys must be integers > 0 and values integers (or numeric
    strings) in ``0..room_count-1``.
    """
    if not isinstance(raw, str) or len(raw) > MAX_RAW_LENGTH:
        raise BadRequest(ERROR_KEY)
    if raw == "":
        return {}
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError covers malformed JSON and integers too long to convert; RecursionError
        # covers pathological nesting depth.
        raise BadRequest(ERROR_KEY) from None
    if isinstance(decoded, list):
        items: list[tuple[Any, Any]] = list(enumerate(decoded))
    elif isinstance(decoded, dict):
        items = list(decoded.items())
    else:
        raise BadRequest(ERROR_KEY)
    return attendee_map_validate(dict(items), room_count=room_count)


def attendee_map_validate(mapping: Mapping[Any, Any], *, room_count: int) -> dict[int, int]:
    """Check an already decoded map (keys and values as JSON or a CSV file would give them)."""
    parsed: dict[int, int] = {}
    for key, value in mapping.items():
        attendee_id = key if isinstance(key, int) and not isinstance(key, bool) else parse_strict_int(key)
        room_index = parse_strict_int(value)
        if attendee_id is None or room_index is None:
            raise BadRequest(ERROR_KEY)
        parsed[attendee_id] = room_index
    if not parsed:
        return parsed
    if max(parsed.values()) >= room_count or min(parsed.values()) < 0 or min(parsed) <= 0:
        raise BadRequest(ERROR_KEY)
    return parsed
