"""A Redis cache that degrades to "no cache" while Redis is unreachable.

The default cache only accelerates (verified passwords): when Redis is down, a read misses and
a write is dropped, with a warning in the log at most once a minute per process, instead of
turning every request into a 500.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_WARN_EVERY_SECONDS = 60.0


class FailSoftRedisCache(RedisCache):
    _last_warning = 0.0

    def _failed(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - FailSoftRedisCache._last_warning >= _WARN_EVERY_SECONDS:
            FailSoftRedisCache._last_warning = now
            logger.warning("Redis cache unavailable (%s), working without it: %s", operation, exc)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except (RedisError, OSError) as exc:
            self._failed("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except (RedisError, OSError) as exc:
            self._failed("get_many", exc)
            return {}

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except (RedisError, OSError) as exc:
            self._failed("set", exc)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except (RedisError, OSError) as exc:
            self._failed("add", exc)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except (RedisError, OSError) as exc:
            self._failed("delete", exc)
            return False
