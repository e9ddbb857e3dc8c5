"""Chat long polling, as Talk does it: ``GET .../chat/{token}?lookIntoFuture=1&timeout=T`` holds
until a message newer than ``lastKnownMessageId`` exists in the room, then answers exactly as the
immediate read does; after ``timeout`` seconds (default 30, at most 30) it answers 304.

An async view in front of the sync ``ChatView``: the sync view does the authentication, the
access checks, the validation and the read, as it always did; when it finds nothing new, this
view waits on the live hub for a ``chat.message`` signal of the room (posted through any worker
or host), blocking no thread and holding no database connection, and then runs the sync read again.
Every other request goes straight through to the sync view.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from conversations.chat_extra_views import ChatWithHistoryView
from conversations.serializers import CHAT_WAIT_DEFAULT, CHAT_WAIT_MAX
from live import hub
from project.ocs.inputs import parse_strict_int


def chat_wait_seconds(request: HttpRequest) -> int:
    """The ``timeout`` of a long poll, clamped to 0..30 as Talk does. The sync view has already
    answered 400 ``timeout`` for anything but an integer (``ChatReadInput``)."""
    value = parse_strict_int(request.GET.get("timeout"))
    return CHAT_WAIT_DEFAULT if value is None else max(0, min(value, CHAT_WAIT_MAX))


chat_sync = ChatWithHistoryView.as_view()


def _release_connection() -> None:
    """Give the request thread's database connection back before a long wait (a test's
    transaction is left alone)."""
    if not connection.in_atomic_block:
        connection.close()


@csrf_exempt  # as every DRF view: the OCS-APIRequest header is the CSRF guard (see authentication)
async def chat(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "GET" or request.GET.get("lookIntoFuture") != "1":
        return await sync_to_async(chat_sync)(request, token=token)
    loop = asyncio.get_running_loop()
    # Subscribed before the first read, so a message posted between that read and the wait
    # still wakes this request.
    async with await hub.subscribe([f"chat.message:{token}"]) as subscription:
        response = await sync_to_async(chat_sync)(request, token=token)
        if response.status_code != 304:
            return response
        deadline = loop.time() + chat_wait_seconds(request)
        while response.status_code == 304 and (remaining := deadline - loop.time()) > 0:
            await sync_to_async(_release_connection)()
            await subscription.wait(remaining)
            response = await sync_to_async(chat_sync)(request, token=token)
        return response


# drf-spectacular documents this route from the class, as it does for any APIView.
chat.cls = ChatWithHistoryView  # type: ignore[attr-defined]
chat.initkwargs = {}  # type: ignore[attr-defined]
