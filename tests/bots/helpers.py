"""Bots for the tests: installed through the service, and a bot's signed requests."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.test import APIClient

from bots.models import Bot
from bots.services import bot_install
from bots.signing import random_new, signature
from tests.helpers import V1

SECRET = "s" * 20 + "e" * 20 + "cret"
OTHER_SECRET = "o" * 44


def installed_bot(
    *, name: str = "Helper", secret: str = SECRET, url: str = "http://127.0.0.1:18399/hook", **kwargs: Any
) -> Bot:
    return bot_install(name=name, secret=secret, url=url, **kwargs)


def signed_headers(text: str, *, secret: str = SECRET, random: str | None = None) -> dict[str, str]:
    random = random or random_new()
    return {
        "HTTP_X_NEXTCLOUD_TALK_BOT_RANDOM": random,
        "HTTP_X_NEXTCLOUD_TALK_BOT_SIGNATURE": signature(secret=secret, random=random, text=text),
    }


def bot_post(client: APIClient, token: str, message: str, *, secret: str = SECRET, **extra: Any) -> Any:
    headers = extra.pop("headers", None) or signed_headers(message, secret=secret)
    body = {"message": message, **extra}
    return client.post(f"{V1}/bot/{token}/message", json.dumps(body), content_type="application/json", **headers)


def bot_react(
    client: APIClient, token: str, message_id: int, reaction: str, *, method: str = "post", secret: str = SECRET
) -> Any:
    headers = signed_headers(reaction, secret=secret)
    call = getattr(client, method)
    return call(
        f"{V1}/bot/{token}/reaction/{message_id}",
        json.dumps({"reaction": reaction}),
        content_type="application/json",
        **headers,
    )
