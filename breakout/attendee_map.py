"""The attendee map of contract 1.14 as a domain value: parent attendee id -> 0-based index of a
breakout room (rooms counted by ascending id).

The wire string is decoded by ``breakout.serializers.AttendeeMapField`` (rules 1-5, 7 and 8);
whether every index names a room (rule 6) depends on the number of rooms, which configure knows
from ``amount`` and reorganize only under the tree lock. Every failure is 400 ``attendeeMap``,
so checking in two places does not change which error a request gets.
"""

from __future__ import annotations

from collections.abc import Mapping

from project.errors import BadRequest

ERROR_KEY = "attendeeMap"

AttendeeMap = dict[int, int]


def attendee_map_check(mapping: Mapping[int, int], *, room_count: int | None) -> AttendeeMap:
    """``mapping`` as a dict if its attendee ids are > 0 and its indices in ``0..room_count-1``
    (only >= 0 when ``room_count`` is None: not known yet), else ``BadRequest("attendeeMap")``."""
    checked = dict(mapping)
    if not checked:
        return checked
    if min(checked.values()) < 0 or min(checked) <= 0:
        raise BadRequest(ERROR_KEY)
    if room_count is not None and max(checked.values()) >= room_count:
        raise BadRequest(ERROR_KEY)
    return checked
