"""Guards for every request under /ocs/ that must act before (or around) the view.

- Bodies larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` are refused with 413 before anything
  reads them (DRF's parsers read the raw stream and would not enforce the limit themselves).
- Brute-force protection (contract decision 13): a client address that produced
  ``BRUTEFORCE_MAX_ATTEMPTS`` failures within ``BRUTEFORCE_WINDOW_SECONDS`` gets 429 with
  ``Retry-After`` on every OCS request until the window ends. Failures are 404 answers (token
  probing) and 401 answers to requests that sent credentials (password guessing, which also
  costs a slow hash per attempt). The counters live in Django's
  cache (no SQL): the default LocMem cache counts per worker process, ``REDIS_URL`` shares the
  counters between all workers.
- An unexpected exception in a view becomes a 500 in the envelope, never Django's HTML page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

from project.ocs.fallback import ocs_error_json
from project.ocs.renderers import is_ocs_path

logger = logging.getLogger(__name__)

BRUTEFORCE_COUNT_PREFIX = "ocs-bruteforce-count:"
BRUTEFORCE_START_PREFIX = "ocs-bruteforce-start:"


def client_address(request: HttpRequest) -> str:
    """The client's IP address. Behind a reverse proxy (``USE_X_FORWARDED_FOR=1``) it is the
    right-most ``X-Forwarded-For`` entry, the one the trusted proxy itself appended."""
    if settings.USE_X_FORWARDED_FOR:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")


class BruteForceGuard:
    """Counts failures per client address in a fixed window that starts with the first one."""

    def __init__(self, address: str) -> None:
        self.count_key = BRUTEFORCE_COUNT_PREFIX + address
        self.start_key = BRUTEFORCE_START_PREFIX + address
        self.cache = caches["default"]

    def retry_after(self) -> int | None:
        """Seconds until this client may try again, or None when it is not blocked."""
        values = self.cache.get_many([self.count_key, self.start_key])
        if values.get(self.count_key, 0) < settings.BRUTEFORCE_MAX_ATTEMPTS:
            return None
        started = values.get(self.start_key, time.time())
        return max(1, int(started + settings.BRUTEFORCE_WINDOW_SECONDS - time.time()) + 1)

    def record_failure(self) -> None:
        window = settings.BRUTEFORCE_WINDOW_SECONDS
        self.cache.add(self.start_key, time.time(), window)
        self.cache.add(self.count_key, 0, window)
        try:
            self.cache.incr(self.count_key)
        except ValueError:  # the entry expired between add() and incr()
            self.cache.set(self.count_key, 1, window)


def _guarded(path: str) -> bool:
    """The OCS API and our own API (the event stream), both authenticated with passwords."""
    return is_ocs_path(path) or path.startswith("/api/v1/")


class OCSMiddleware:
    # Both modes: under ASGI an async view (long polling, the event stream) must not be run
    # through a sync middleware, which would hold a thread for the whole wait.
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        if not _guarded(request.path):
            return self.get_response(request)
        guard, refusal = self._before(request)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        self._after(request, response, guard)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if not _guarded(request.path):
            return await self.get_response(request)
        guard, refusal = await sync_to_async(self._before)(request)  # the cache may be Redis
        if refusal is not None:
            return refusal
        response = await self.get_response(request)
        await sync_to_async(self._after)(request, response, guard)
        return response

    def _before(self, request: HttpRequest) -> tuple[BruteForceGuard | None, HttpResponse | None]:
        guard = BruteForceGuard(client_address(request)) if settings.BRUTEFORCE_PROTECTION else None
        if guard is not None:
            retry_after = guard.retry_after()
            if retry_after is not None:
                response = ocs_error_json(request, 429, message="Too many requests")
                response["Retry-After"] = str(retry_after)
                return guard, response
        if self._declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return guard, ocs_error_json(request, 413, message="Request body too large")
        return guard, None

    def _after(self, request: HttpRequest, response: HttpResponse, guard: BruteForceGuard | None) -> None:
        if guard is not None and self._is_failure(request, getattr(response, "ocs_status", response.status_code)):
            guard.record_failure()

    @staticmethod
    def _is_failure(request: HttpRequest, status: int) -> bool:
        return status == 404 or (status == 401 and "HTTP_AUTHORIZATION" in request.META)

    @staticmethod
    def _declared_length(request: HttpRequest) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_ocs_path(request.path):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path, exc_info=exception)
        return ocs_error_json(request, 500, message="Internal Server Error")
