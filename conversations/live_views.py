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
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.views import CHAT_LIMIT_DEFAULT, CHAT_LIMIT_MAX, ChatView
from live import hub
from project.errors import BadRequest
from project.ocs.schema import ocs_responses, query_param

CHAT_WAIT_DEFAULT = 30
CHAT_WAIT_MAX = 30


def chat_wait_seconds(request: HttpRequest) -> int:
    """The ``timeout`` of a long poll: an integer, clamped to 0..30 as Talk does (400 ``timeout``
    when it is not an integer)."""
    raw = request.GET.get("timeout")
    if raw is None or raw == "":
        return CHAT_WAIT_DEFAULT
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("timeout") from None
    return max(0, min(value, CHAT_WAIT_MAX))


class LongPollChatView(ChatView):
    """``ChatView`` with the ``timeout`` parameter checked (the waiting itself is ``chat`` below)."""

    @extend_schema(
        parameters=[
            query_param("lookIntoFuture", OpenApiTypes.INT, enum=[0, 1], description="1: messages after lastKnown"),
            query_param(
                "limit", OpenApiTypes.INT, description=f"1.., at most {CHAT_LIMIT_MAX} are given ({CHAT_LIMIT_DEFAULT})"
            ),
            query_param("lastKnownMessageId", OpenApiTypes.INT, description="Message id to page from"),
            query_param(
                "timeout",
                OpenApiTypes.INT,
                description=(
                    f"lookIntoFuture=1: seconds to wait for a newer message (default {CHAT_WAIT_DEFAULT}, "
                    f"at most {CHAT_WAIT_MAX}; 0 answers at once)"
                ),
            ),
        ],
        responses={
            **ocs_responses(_400="lookIntoFuture, limit, lastKnownMessageId, timeout"),
            304: OpenApiResponse(description="No newer message within `timeout` seconds (lookIntoFuture=1); no body"),
        },
    )
    def get(self, request: Request, token: str) -> HttpResponse | Response:
        """A page of the chat. ``lookIntoFuture=0``: the newest ``limit`` messages (older than
        ``lastKnownMessageId`` when given), newest first. ``lookIntoFuture=1``: the messages after
        ``lastKnownMessageId``, ascending; when there are none yet the request waits up to
        ``timeout`` seconds for one (long polling, as in Talk), then answers 304 without a body."""
        chat_wait_seconds(request._request)
        return super().get(request, token)


chat_sync = LongPollChatView.as_view()


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
chat.cls = LongPollChatView  # type: ignore[attr-defined]
chat.initkwargs = {}  # type: ignore[attr-defined]
