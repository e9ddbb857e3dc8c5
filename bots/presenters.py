"""Response bodies of the bot endpoints (Talk's TalkBot)."""

from __future__ import annotations

from typing import Any

from bots.models import Bot


def bot_payload(bot: Bot, *, set_up: bool) -> dict[str, Any] | None:
    """Talk's formatBot: state 1 when set up in the conversation, else 0; a no-setup bot shows
    state 2 where it is set up and is left out (None) where it is not."""
    state = Bot.State.ENABLED if set_up else Bot.State.DISABLED
    if bot.state == Bot.State.NO_SETUP:
        if not set_up:
            return None
        state = Bot.State.NO_SETUP
    return {"id": bot.pk, "name": bot.name, "description": bot.description or None, "state": int(state)}
