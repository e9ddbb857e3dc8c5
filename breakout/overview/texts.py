"""What the lifecycle services' error keys mean to an operator (admin messages, commands)."""

from __future__ import annotations

from project.errors import ServiceError

ERROR_TEXT = {
    "mode": "breakout rooms are not configured",
    "room": "not possible for this conversation (start the breakout rooms first for assistance)",
    "config": "breakout rooms are disabled (app config breakout_rooms is not 'yes')",
    "status": "breakout rooms are not started",
    "names": "the room names must be as many as the rooms, all different, 1 to 255 characters each",
}


def service_error_text(error: ServiceError) -> str:
    if error.key:
        return ERROR_TEXT.get(error.key, f"refused ({error.key})")
    return error.message or "refused"
