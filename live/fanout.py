"""Waking the waiters of every process and host after a commit.

The writer's side (sync, in ``transaction.on_commit``) publishes small signals: the type, the
conversation and its parent, never the event itself (readers take that from the outbox, which
is the only source of truth). The transport is chosen once from the settings:

- ``REDIS_URL`` set: Redis pub/sub on channel ``LIVE_CHANNEL``;
- PostgreSQL: ``NOTIFY`` on the same channel name;
- SQLite (one host): nothing is sent; each process's listener polls the outbox's newest id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

LIVE_CHANNEL = "live_events"
# PostgreSQL refuses NOTIFY payloads from 8000 bytes on; a larger batch wakes everyone instead.
MAX_PAYLOAD_BYTES = 7000


@dataclass(frozen=True)
class Signal:
    type: str
    token: str
    parent_token: str | None = None

    def wake_keys(self) -> list[str]:
        """The keys a waiter may wait for: every event, any event of a conversation (or of its
        tree, by the parent's token), and one type in one conversation (``chat.message:<token>``)."""
        keys = [WAKE_ALL, f"token:{self.token}", f"{self.type}:{self.token}"]
        if self.parent_token:
            keys.append(f"token:{self.parent_token}")
        return keys


WAKE_ALL = "*"


def transport() -> str:
    """``redis``, ``postgres`` or ``poll``."""
    if settings.REDIS_URL:
        return "redis"
    if connection.vendor == "postgresql":
        return "postgres"
    return "poll"


def encode(signals: Sequence[Signal]) -> str:
    payload = json.dumps([[s.type, s.token, s.parent_token] for s in signals], separators=(",", ":"))
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        return json.dumps("*")
    return payload


def decode(payload: str | bytes) -> list[Signal] | None:
    """The signals of a message, or None for "wake everyone" (also for a message we cannot read)."""
    try:
        data: Any = json.loads(payload)
        if isinstance(data, list):
            return [Signal(type=str(t), token=str(k), parent_token=p) for t, k, p in data]
    except (ValueError, TypeError):
        logger.warning("Unreadable live signal %r; waking every waiter", payload)
    return None


@cache
def _redis_client() -> Any:
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def publish(signals: Sequence[Signal]) -> None:
    """Wake the waiters of every process. Runs after the commit: a failure here loses no event
    (the outbox has it), it only delays delivery until the next wake-up or heartbeat, so it is
    logged, not raised into the request that already succeeded."""
    if not signals:
        return
    kind = transport()
    try:
        if kind == "redis":
            _redis_client().publish(LIVE_CHANNEL, encode(signals))
        elif kind == "postgres":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", [LIVE_CHANNEL, encode(signals)])
    except Exception:
        logger.exception("Could not publish a live signal over %s", kind)
