"""ASGI entry point: gunicorn with uvicorn workers (``uvicorn_worker.UvicornWorker``).

The waiting endpoints (chat long polling, the event stream) are async views: they run through
the middleware chain in its async mode and wait in the event loop, blocking no thread and
holding no database connection.

Every other view is sync (the DRF views). Django's async chain would run each of the sync
middleware hooks in a thread hop of its own (``MiddlewareMixin`` in async mode: one for
``process_request``, one for ``process_response``, one per ``process_view``) and the view in
another, about twenty hops per request. ``OneHopASGIHandler`` serves a sync view instead
through the same ``MIDDLEWARE`` loaded in sync mode (the chain ``project.wsgi`` runs), in one
hop to the request's thread: the same hooks in the same order, as under gunicorn's sync
workers. The switch lane (``project.admission``) admits a switch in the event loop before that
hop, so a switch waiting for its lane holds no thread.

Each request's sync code runs in a thread of its own (its database connection belongs to that
thread). Django's handler starts a new thread per request and joins it in yet another one at
the end, two thread starts per request, the event loop waiting for each; here the request gets
an idle thread of the process back (``ThreadSensitiveContext(executor=...)``, asgiref >= 3.9),
and the thread goes back to the idle ones once its work is done (at most
``IDLE_REQUEST_THREADS`` are kept).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext, iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, get_resolver

IDLE_REQUEST_THREADS = 32


class OneHopASGIHandler(ASGIHandler):
    """Async views through the async chain; sync views through the sync chain in one hop; each
    request in a reused thread."""

    def __init__(self) -> None:
        super().__init__()
        self._idle: list[ThreadPoolExecutor] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # Django refuses it (no lifespan)
            return
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(1, thread_name_prefix="request")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            # Idle again once the work queued so far is done (a hop the request abandoned, a
            # cancelled long poll's, runs to its end first): then it serves the next request.
            executor.submit(_noop).add_done_callback(lambda _: self._give_back(executor))

    def _give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self._idle) < IDLE_REQUEST_THREADS:
            self._idle.append(executor)
        else:
            executor.shutdown(wait=False)

    def load_middleware(self, is_async: bool = False) -> None:
        from project.admission import SwitchLaneMiddleware

        super().load_middleware(is_async=is_async)
        self._sync_handler = BaseHandler()
        self._sync_handler.load_middleware(is_async=False)
        self._one_hop = SwitchLaneMiddleware(self._in_one_thread)

    async def _in_one_thread(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await sync_to_async(self._sync_handler.get_response, thread_sensitive=True)(
            request
        )
        return response

    async def get_response_async(self, request: HttpRequest) -> Any:
        if is_async_view(request):
            return await super().get_response_async(request)
        return await self._one_hop(request)


def _noop() -> None:
    return None


def is_async_view(request: HttpRequest) -> bool:
    """Whether the URL resolves to an async view (no middleware here sets ``request.urlconf``;
    an unknown URL goes the sync way: the 404, or ``APPEND_SLASH``'s redirect)."""
    try:
        match = get_resolver(settings.ROOT_URLCONF).resolve(request.path_info)
    except Resolver404:
        return False
    return iscoroutinefunction(match.func)


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup(set_prefix=False)

from project.ocs.middleware import unusable_charset_guard_asgi  # noqa: E402 (needs the settings above)

application = unusable_charset_guard_asgi(OneHopASGIHandler())
