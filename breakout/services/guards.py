"""The state checks of the breakout lifecycle, written once.

The contract orders some state checks before the request's parameters (configure: ``config``
and ``room`` come before ``mode`` and ``amount``). The input serializers run these guards in
``check_state()`` on the state the request found, so a request gets the contract's first error;
the services run them again on the rows they locked, so a change that landed in between is still
answered correctly. Each guard raises the contract's error key and returns nothing.
"""

from __future__ import annotations

from typing import TypeVar

from accounts.selectors import breakout_rooms_enabled
from conversations.models import Attendee, Conversation
from conversations.services.primitives import AttendeeRow
from project.errors import BadRequest, Forbidden, NotFound

ROOMS_MINIMUM = 1
ROOMS_MAXIMUM = 20
CONFIGURABLE_MODES = (
    Conversation.BreakoutMode.AUTOMATIC,
    Conversation.BreakoutMode.MANUAL,
    Conversation.BreakoutMode.FREE,
)


# The caller's row as a model instance or as plain values (configure reads every member as values).
CallerRow = TypeVar("CallerRow", Attendee, AttendeeRow)


def caller_require(attendee: CallerRow | None, *, moderator: bool = False) -> CallerRow:
    """The access checks of contract 1.0 on the caller's row: 404 without one, 403 for a
    "mod" endpoint when the caller is not an owner or moderator."""
    if attendee is None:
        raise NotFound()
    if moderator and attendee.participant_type not in Attendee.MODERATOR_TYPES:
        raise Forbidden()
    return attendee


def breakout_config_require() -> None:
    """App config ``breakout_rooms`` must be ``yes`` (configure and reorganize): 400 ``config``."""
    if not breakout_rooms_enabled():
        raise BadRequest("config")


def parent_configurable_require(parent: Conversation) -> None:
    """Configure needs an unconfigured group conversation that is not itself a breakout room
    (contract 1.1 checks 3-5): 400 ``room``."""
    if (
        parent.breakout_room_mode != Conversation.BreakoutMode.NOT_CONFIGURED
        or parent.type != Conversation.Type.GROUP
        or parent.parent_id is not None
    ):
        raise BadRequest("room")


def parent_configured_require(parent: Conversation) -> None:
    """Start, stop, broadcast and reorganize need configured breakout rooms: 400 ``mode``."""
    if parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
        raise BadRequest("mode")


def mode_configurable_require(mode: int) -> None:
    """1 automatic, 2 manual, 3 free; 0 is refused too (decision 2): 400 ``mode``."""
    if mode not in CONFIGURABLE_MODES:
        raise BadRequest("mode")


def amount_require(amount: int) -> None:
    """``ROOMS_MINIMUM``..``ROOMS_MAXIMUM`` breakout rooms: 400 ``amount``."""
    if not ROOMS_MINIMUM <= amount <= ROOMS_MAXIMUM:
        raise BadRequest("amount")


def switch_open_require(parent: Conversation, *, caller: Attendee) -> None:
    """A switch needs a started free-mode parent and a caller who is not a moderator (contract
    1.9 checks 2-4): 400 ``mode``, ``status``, ``moderator``."""
    if parent.breakout_room_mode != Conversation.BreakoutMode.FREE:
        raise BadRequest("mode")
    if parent.breakout_room_status != Conversation.BreakoutStatus.STARTED:
        raise BadRequest("status")
    if caller.is_moderator:
        raise BadRequest("moderator")


def assistance_open_require(room: Conversation) -> None:
    """Assistance is asked for in a breakout room whose lobby is open, i.e. started (contract
    1.7): 400 ``room``."""
    if room.parent_id is None or room.lobby_state != Conversation.Lobby.NONE:
        raise BadRequest("room")


# --- Extensions of issue 11 -------------------------------------------------------------------

TIMER_SECONDS_MINIMUM = 60
TIMER_SECONDS_MAXIMUM = 86_400
GRACE_SECONDS_MAXIMUM = 300
ROOM_NAME_MAXIMUM = 255


def names_require(names: object, *, amount: int) -> list[str]:
    """``names`` of configure (extension ``breakout-rooms-names``): exactly ``amount`` strings,
    each 1 to 255 characters once trimmed, all different; returns them trimmed, else 400
    ``names``."""
    if not isinstance(names, list | tuple) or len(names) != amount:
        raise BadRequest("names")
    if not all(isinstance(name, str) for name in names):
        raise BadRequest("names")
    trimmed = [name.strip() for name in names]
    if any(not 1 <= len(name) <= ROOM_NAME_MAXIMUM or "\x00" in name for name in trimmed):
        raise BadRequest("names")
    if len(set(trimmed)) != len(trimmed):
        raise BadRequest("names")
    return trimmed


def parent_started_require(parent: Conversation) -> None:
    """Timers and opening or closing one room need started breakout rooms: 400 ``status``."""
    if parent.parent_id is not None or parent.breakout_room_status != Conversation.BreakoutStatus.STARTED:
        raise BadRequest("status")
