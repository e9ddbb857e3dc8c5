"""Reads of the bots app."""

from __future__ import annotations

from typing import Any

from bots.models import Bot, BotConversation
from bots.presenters import bot_payload
from conversations.models import Conversation


def bots_for_moderators(*, room: Conversation) -> list[dict[str, Any]]:
    """Every installed bot as moderators of ``room`` see it (Talk's ``GET /bot/{token}``): two
    queries whatever the number of bots."""
    set_up = set(BotConversation.objects.filter(conversation=room).values_list("bot_id", flat=True))
    payloads = (bot_payload(bot, set_up=bot.pk in set_up) for bot in Bot.objects.order_by("id"))
    return [payload for payload in payloads if payload is not None]


def room_for_bot(*, token: str) -> Conversation | None:
    return Conversation.objects.select_related("parent").filter(token=token).first()


def bots_for_admins() -> list[dict[str, Any]]:
    """Talk's BotServer as the admin list shows it (no secret)."""
    return [
        {
            "id": bot.pk,
            "name": bot.name,
            "url": bot.url,
            "url_hash": bot.url_hash,
            "description": bot.description or None,
            "state": bot.state,
            "features": bot.features,
            "error_count": bot.error_count,
            "last_error_date": int(bot.last_error_at.timestamp()) if bot.last_error_at else 0,
            "last_error_message": bot.last_error_message or None,
        }
        for bot in Bot.objects.order_by("id")
    ]
