"""The overview page's own event stream: ``GET <admin>/conversations/conversation/breakout-overview/events``
(``admin:breakout_overview_events``), ``text/event-stream``, for staff sessions.

Why not ``/api/v1/events``: that stream authenticates like the OCS API (a session must send
``OCS-APIRequest: true``, which an ``EventSource`` cannot set) and shows a user the conversations
they take part in, while an operator watches every parent without being an attendee. The rule
here: an active staff user with the ``conversations.view_conversation`` permission, logged into
the admin (its session cookie, same origin: an ``EventSource`` sends cookies only to its own
origin unless CORS allows more, which this service never does). It is read-only (GET), so
CSRF protection, which guards changes, is not weakened: every button of the page still posts
a form with the CSRF token.

Each event carries only ``type``, ``token`` and ``parentToken``: the page reloads its rows on
any of them and reads the details from the database. Events: every ``breakout.*`` event not
addressed to one user (``breakout.switchto`` is), and ``participants.changed`` of breakout rooms.
A stream ends after ``STREAM_SECONDS``; the browser reconnects with ``Last-Event-ID`` (the
session is checked again). Under WSGI (``runserver``, Django's test server) a stream cannot wait
without holding a thread: the answer is the events so far and the browser asks again after
``retry`` milliseconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from conversations.events_views import events_follow
from live import hub
from live.fanout import WAKE_ALL
from live.models import Event
from live.selectors import event_newest_id, events_after
from project.db import read_and_release

STREAM_SECONDS = 300
WSGI_RETRY_MILLISECONDS = 3000

OVERVIEW_EVENTS = (Q(type__startswith="breakout.") & Q(target_user_id__isnull=True)) | Q(
    type="participants.changed", parent_token__isnull=False
)


def _frame(event: Event) -> str:
    data = json.dumps({"type": event.type, "token": event.token, "parentToken": event.parent_token})
    # No ``event:`` line: the page's ``onmessage`` sees every type.
    return f"id: {event.id}\ndata: {data}\n\n"


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID", "")
    return int(raw) if raw.isdigit() else None


def _may_watch(user: object) -> bool:
    return bool(
        getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
        and user.has_perm("conversations.view_conversation")  # type: ignore[attr-defined]
    )


async def overview_event_stream(*, after: int | None, seconds: float = STREAM_SECONDS) -> AsyncIterator[str]:
    deadline = time.monotonic() + seconds
    async with await hub.subscribe([WAKE_ALL]) as subscription:
        yield "retry: 2000\n: breakout overview\n\n"
        if after is None:
            after = await sync_to_async(read_and_release)(event_newest_id)
            yield f"id: {after}\ndata: {{}}\n\n"
        async for frame in events_follow(
            subscription, after=after, visible=OVERVIEW_EVENTS, frame=_frame, deadline=deadline
        ):
            yield frame


def _events_so_far(after: int | None) -> str:
    """The WSGI answer: what happened after ``after`` (nothing on a first visit), then close."""
    if after is None:
        return f"retry: {WSGI_RETRY_MILLISECONDS}\nid: {event_newest_id()}\ndata: {{}}\n\n"
    frames = [_frame(event) for event in events_after(after_id=after, visible=OVERVIEW_EVENTS)]
    return f"retry: {WSGI_RETRY_MILLISECONDS}\n" + "".join(frames)


@require_GET
async def overview_events_view(request: HttpRequest) -> HttpResponseBase:
    user = await request.auser()
    if not await sync_to_async(_may_watch)(user):
        return HttpResponse("Staff session with the view_conversation permission required.", status=403)
    after = _last_event_id(request)
    if not isinstance(request, ASGIRequest):
        body = await sync_to_async(read_and_release)(_events_so_far, after)
        response: HttpResponseBase = HttpResponse(body, content_type="text/event-stream; charset=utf-8")
    else:
        response = StreamingHttpResponse(
            overview_event_stream(after=after), content_type="text/event-stream; charset=utf-8"
        )
        response["X-Accel-Buffering"] = "no"
    response["Cache-Control"] = "no-cache"
    return response
