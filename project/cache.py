"""Redis caches that keep the API answering while Redis is unreachable.

- ``BreakerRedisCache``: after a failed Redis call it stops calling Redis for
  ``SUSPEND_SECONDS`` and raises at once instead, so a Redis that is down (or drops packets
  until the socket timeout) costs one timeout per worker every few seconds, not one per call.
  The brute-force guard uses it and decides what a failure means (``BRUTEFORCE_FAIL_CLOSED``).
- ``FailSoftRedisCache``: the same, and every failure reads as a miss and drops the write, with
  a warning at most once a minute per process. The default cache only accelerates (verified
  passwords), so without Redis the service works as with no cache.
"""

from __future__ import annotations

import logging
import time
from functools import cached_property
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

SUSPEND_SECONDS = 5.0
WARN_EVERY_SECONDS = 60.0
REDIS_FAILURES = (RedisError, OSError)


class _BreakerClient:
    """Wraps Django's Redis client: no calls while suspended, suspension after a failure."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._suspended_until = 0.0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if time.monotonic() < self._suspended_until:
                raise RedisConnectionError("Redis calls suspended after a recent failure")
            try:
                return attribute(*args, **kwargs)
            except REDIS_FAILURES:
                self._suspended_until = time.monotonic() + SUSPEND_SECONDS
                raise

        return call


class BreakerRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> Any:
        return _BreakerClient(self._class(self._servers, **self._options))  # type: ignore[attr-defined]


class FailSoftRedisCache(BreakerRedisCache):
    _last_warning = float("-inf")

    def _failed(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_SECONDS:
            self._last_warning = now
            logger.warning("Redis cache unavailable (%s), working without it: %s", operation, exc)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except REDIS_FAILURES as exc:
            self._failed("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except REDIS_FAILURES as exc:
            self._failed("get_many", exc)
            return {}

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except REDIS_FAILURES as exc:
            self._failed("set", exc)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except REDIS_FAILURES as exc:
            self._failed("add", exc)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except REDIS_FAILURES as exc:
            self._failed("delete", exc)
            return False
