"""Brute-force protection for everything that can probe a secret (contract decision 13).

A client address that collected ``BRUTEFORCE_MAX_ATTEMPTS`` failures within
``BRUTEFORCE_WINDOW_SECONDS`` (a fixed window that starts with its first failure) is refused
until the window ends. Failures are: 404 answers to conversation lookups under /ocs/ (token
probing), 401 answers to requests that sent HTTP Basic credentials on any path (password
guessing), and failed logins of the admin login form. Unknown OCS routes are not failures
(issue 10): they probe nothing.

The counters are shared by all workers: in Redis when ``REDIS_URL`` is set (cache alias
``bruteforce``), else in the database (``FailureWindow``, one atomic upsert per failure). Asking
whether a client is refused costs one cache round trip or one primary-key SELECT.

When the store fails (Redis or the database down) the guard logs a warning and fails open
(the request goes on), or closed (503) with ``BRUTEFORCE_FAIL_CLOSED=1``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest

from project.bruteforce.models import FailureWindow

logger = logging.getLogger(__name__)

CACHE_ALIAS = "bruteforce"
COUNT_PREFIX = "bruteforce-count:"
START_PREFIX = "bruteforce-start:"
MAX_ADDRESS_LENGTH = 64


class GuardUnavailable(Exception):
    """The counter store could not be reached."""


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused before its credentials or tokens are looked at."""

    status: int  # 429: too many failures; 503: the guard is down and fails closed
    message: str
    retry_after: int


def client_address(request: HttpRequest) -> str:
    """The client's IP address. Behind ``TRUSTED_PROXIES`` reverse proxies it is the
    ``X-Forwarded-For`` entry that many places from the right (each trusted proxy appended the
    address it saw; anything further left may be forged by the client), or the left-most entry
    when the header is shorter. Without trusted proxies, or without the header, ``REMOTE_ADDR``."""
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "")


def _store_key(address: str) -> str:
    if len(address) <= MAX_ADDRESS_LENGTH:
        return address
    return hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()


def _uses_cache() -> bool:
    return CACHE_ALIAS in settings.CACHES


def _failures_and_start(key: str) -> tuple[int, float]:
    """The failure count and window start of ``key`` (0 when there is no live window)."""
    now = time.time()
    window = settings.BRUTEFORCE_WINDOW_SECONDS
    if _uses_cache():
        values = caches[CACHE_ALIAS].get_many([COUNT_PREFIX + key, START_PREFIX + key])
        return values.get(COUNT_PREFIX + key, 0), values.get(START_PREFIX + key, now)
    row = FailureWindow.objects.filter(pk=key).values_list("failures", "started_at").first()
    if row is None or row[1] <= now - window:
        return 0, now
    return row


def _record(key: str) -> None:
    now = time.time()
    window = settings.BRUTEFORCE_WINDOW_SECONDS
    if _uses_cache():
        cache = caches[CACHE_ALIAS]
        cache.add(START_PREFIX + key, now, window)
        cache.add(COUNT_PREFIX + key, 0, window)
        try:
            cache.incr(COUNT_PREFIX + key)
        except ValueError:  # the entry expired between add() and incr()
            cache.set(COUNT_PREFIX + key, 1, window)
        return
    table = connection.ops.quote_name(FailureWindow._meta.db_table)
    expired = now - window
    # One statement, atomic on PostgreSQL and SQLite alike: concurrent failures from several
    # workers are all counted (a read-then-write would lose some). SET reads the old row.
    sql = (
        f"INSERT INTO {table} (address, started_at, failures) VALUES (%s, %s, 1) "
        f"ON CONFLICT (address) DO UPDATE SET "
        f"failures = CASE WHEN {table}.started_at <= %s THEN 1 ELSE {table}.failures + 1 END, "
        f"started_at = CASE WHEN {table}.started_at <= %s THEN excluded.started_at ELSE {table}.started_at END "
        f"RETURNING failures"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, now, expired, expired])
        (failures,) = cursor.fetchone()
        if failures == 1:
            # A new window: forget the windows that ended, so the table holds only live ones.
            cursor.execute(f"DELETE FROM {table} WHERE started_at <= %s", [expired])


def _store_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (DatabaseError, OSError)
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a requirement
        return errors
    return (*errors, RedisError)


def retry_after(address: str) -> int | None:
    """Seconds until ``address`` may try again, or None when it is not blocked.
    Raises ``GuardUnavailable`` when the store cannot be read."""
    try:
        failures, started = _failures_and_start(_store_key(address))
    except _store_errors() as exc:
        raise GuardUnavailable(str(exc)) from exc
    if failures < settings.BRUTEFORCE_MAX_ATTEMPTS:
        return None
    return max(1, int(started + settings.BRUTEFORCE_WINDOW_SECONDS - time.time()) + 1)


def refusal(request: HttpRequest) -> Refusal | None:
    """The answer to give instead of handling ``request``, or None to handle it."""
    if not settings.BRUTEFORCE_PROTECTION:
        return None
    address = client_address(request)
    try:
        seconds = retry_after(address)
    except GuardUnavailable as exc:
        if settings.BRUTEFORCE_FAIL_CLOSED:
            logger.warning("Brute-force guard unavailable, refusing %s (fail closed): %s", address, exc)
            return Refusal(status=503, message="Service temporarily unavailable", retry_after=30)
        logger.warning("Brute-force guard unavailable, letting %s through (fail open): %s", address, exc)
        return None
    if seconds is None:
        return None
    return Refusal(status=429, message="Too many requests", retry_after=seconds)


def record_failure(request: HttpRequest) -> None:
    """Count one failure of ``request``'s client (logged, never raised, when the store is down)."""
    if not settings.BRUTEFORCE_PROTECTION:
        return
    address = client_address(request)
    try:
        _record(_store_key(address))
    except _store_errors() as exc:
        logger.warning("Brute-force guard could not count a failure of %s: %s", address, exc)
