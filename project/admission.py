"""The switch lane: how many breakout-room switches of one process run at once (under ASGI).

Under ASGI every request's sync code runs in a thread of its own and takes a database connection
from the process's pool (``DATABASE_POOL_SIZE``) at its first query, until it ends. A class of
students pressing "switch room" as fast as they can would fill the pool, and a moderator's start
or stop would then wait behind all of their requests for a connection, then for the tree gate.

``SwitchLaneMiddleware`` (first in ``MIDDLEWARE``) lets at most ``SWITCH_CONCURRENCY`` switch
requests of a process past it at once; the others wait in the event loop, in arrival order,
holding no thread and no connection. Every other request passes untouched, so a moderator's
operation finds a connection at once and waits only for the switches in flight (at most
workers x ``SWITCH_CONCURRENCY`` hold the tree's gate in shared mode; switches arriving after it
queue behind it at the gate, ``conversation_tree_share_lock``). Throughput is not lost: the
switches in flight keep the processes busy, the others would only have waited for connections.

Under WSGI (a sync worker serves one request at a time) and with ``SWITCH_CONCURRENCY=0`` the
middleware lets everything through.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from project.middleware import DualModeMiddleware

SWITCH_PATH = re.compile(r"/ocs/v[12]\.php/apps/spreed/api/v1/breakout-rooms/[^/]+/switch/?")


def is_switch(request: HttpRequest) -> bool:
    return request.method == "POST" and SWITCH_PATH.fullmatch(request.path) is not None


class SwitchLaneMiddleware(DualModeMiddleware):
    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        self.width: int = settings.SWITCH_CONCURRENCY
        # One lane per event loop (a uvicorn worker has one; tests may start several).
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def lane(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        lane = self._lanes.get(loop)
        if lane is None:
            lane = self._lanes[loop] = asyncio.Semaphore(self.width)
        return lane

    async def ahandle(self, request: HttpRequest) -> HttpResponse:
        if not self.width or not is_switch(request):
            return await super().ahandle(request)
        async with self.lane():
            return await super().ahandle(request)
