"""The base of our own middleware: sync- and async-capable, without thread hops.

Django builds each middleware once, in the mode of the handler below it: ``handle`` runs in a
sync chain (WSGI, and the one-hop chain of ``project.asgi``), ``ahandle`` in an async one (the
async views under ASGI), in the event loop. Whatever ``ahandle`` does before and after awaiting
the inner handler must not block; blocking work goes through ``sync_to_async``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse


class DualModeMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.ahandle(request)
        return self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        return response

    async def ahandle(self, request: HttpRequest) -> HttpResponse:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        return await get_response(request)
