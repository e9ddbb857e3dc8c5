"""The event stream (our extension, capability feature ``breakout-events``): ``GET /api/v1/events``
as ``text/event-stream``, authenticated like the OCS API.

``EventStreamView`` (sync DRF) authenticates, validates ``token`` and ``lastEventId`` and checks
access as every endpoint does; ``events`` (async) then streams the outbox to the client: the
events after ``Last-Event-ID`` (header, or ``?lastEventId=``), or from now on without one, then
each new one as the live hub signals it, and a heartbeat comment when nothing happened for
``LIVE_HEARTBEAT_SECONDS``. Between reads it blocks no thread and holds no database connection.

Who sees what (decided in SQL at every read, so a change of membership applies at once): the
events of conversations the user is an attendee of, the events addressed to them
(``breakout.switchto``), and every event of a conversation they moderate and of its breakout
rooms. Events addressed to another user are only for that user and the tree's moderators.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import authenticated_user
from accounts.models import User
from conversations.models import Attendee
from conversations.selectors import attendee_get_for_user
from conversations.serializers import EventStreamInput
from live import hub
from live.fanout import WAKE_ALL
from live.models import Event
from live.selectors import event_data, event_newest_id, events_after, events_resume_lost
from project.db import read_and_release
from project.ocs.schema import ocs_responses
from project.ocs.views import OCSView

EVENT_TYPES = {
    "breakout.configured": "rooms were configured (`mode`, `amount`, `rooms`: the breakout room tokens)",
    "breakout.removed": "the breakout rooms were removed",
    "breakout.started": "the breakout rooms were opened",
    "breakout.stopped": "the breakout rooms were closed",
    "breakout.switchto": "addressed to one user: join the room `target` (a breakout room, or the parent on stop "
    "or when their room is closed on its own)",
    "breakout.assistance": "assistance requested or reset in a breakout room (`status`), or claimed by a moderator "
    "(`claimedBy`)",
    "breakout.timer": "the end of the breakout rooms was set, changed or cleared, or is near (`endsAt`, 0: none; "
    "`secondsLeft`)",
    "breakout.broadcast": "a moderator broadcast a message to all breakout rooms (`messageIds`)",
    "participants.changed": (
        "participants changed (`change`: added, removed, left, promoted, demoted; `attendeeIds`, `actorIds`)"
    ),
    "chat.message": (
        "the chat of a conversation changed: a message, a system message (edits, deletions, cleared history, "
        "reactions, participants, polls...) or a broadcast (`messageId`: the newest message)"
    ),
    "chat.reaction": "a reaction was added or removed (`messageId`, `reaction`, `added`: true or false)",
    "reset": "the client is further behind than the retention window: reload the state",
}

STREAM_DESCRIPTION = (
    "Server-sent events of the conversations the caller takes part in. Each event has `id:` "
    "(increasing), `event:` (the type) and `data:`, one JSON object with `type`, `token`, "
    "`parentToken`, `actorId`, `timestamp` and the type's own fields. Types: "
    + "; ".join(f"`{name}`: {text}" for name, text in EVENT_TYPES.items())
    + ". Resume with the `Last-Event-ID` header (or `lastEventId`). A comment line is sent at "
    "least every 15 seconds."
)


def events_visible_to(user: User) -> Q:
    """The outbox rows ``user`` may see (see the module docstring), as one filter with subqueries."""
    mine = Attendee.objects.filter(user=user, actor_type=Attendee.ACTOR_USERS)
    attended = mine.values("room__token")
    moderated = mine.filter(participant_type__in=Attendee.MODERATOR_PERMISSION_TYPES).values("room__token")
    return (
        Q(target_user_id__isnull=True, token__in=attended)
        | Q(target_user_id=user.get_username())
        | Q(token__in=moderated)
        | Q(parent_token__in=moderated)
    )


class JSONErrorsNegotiation(DefaultContentNegotiation):
    """An EventSource asks for ``text/event-stream``: the errors before the stream (401, 404,
    400) still answer in the JSON envelope instead of a 406."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> Any:
        first = next(iter(renderers))
        return first, first.media_type


class EventStreamView(OCSView):
    """Authentication, parameters and access of the stream (the streaming itself is ``events``)."""

    content_negotiation_class = JSONErrorsNegotiation

    @extend_schema(
        operation_id="events_stream",
        parameters=[EventStreamInput],
        description=STREAM_DESCRIPTION,
        responses={
            **{status: answer for status, answer in ocs_responses(_400="lastEventId").items() if status != 200},
            (200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description="The stream (does not end)"),
        },
    )
    def get(self, request: Request) -> Response:
        """Live updates: a stream of events (text/event-stream) that does not end."""
        values = EventStreamInput.from_request(request)
        follow, root = Q(), None
        token = values["token"]
        user = authenticated_user(request)
        if token is not None:
            room = attendee_get_for_user(user=user, token=token).room  # 404 as everywhere
            root = room.parent.token if room.parent is not None else room.token
            follow = Q(token=root) | Q(parent_token=root)
        response = Response(status=200)
        response.stream = {  # type: ignore[attr-defined]  # read by ``events`` below
            "user": user,
            "follow": follow,
            "root": root,
            "after": values["lastEventId"],
        }
        return response


events_sync = EventStreamView.as_view()


def _frame(event: Event) -> str:
    data = json.dumps(event_data(event), separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


async def event_stream(*, user: User, follow: Q, root: str | None, after: int | None) -> AsyncIterator[str]:
    keys = [f"token:{root}"] if root else [WAKE_ALL]
    async with await hub.subscribe(keys) as subscription:
        yield "retry: 2000\n: live updates\n\n"
        if after is None:
            after = await sync_to_async(read_and_release)(event_newest_id)
        elif await sync_to_async(read_and_release)(events_resume_lost, after_id=after):
            after = await sync_to_async(read_and_release)(event_newest_id)
            yield f"id: {after}\nevent: reset\ndata: {json.dumps({'type': 'reset'})}\n\n"
        async for frame in events_follow(subscription, after=after, visible=events_visible_to(user) & follow):
            yield frame


async def events_follow(
    subscription: hub.Subscription,
    *,
    after: int,
    visible: Q,
    frame: Callable[[Event], str] = _frame,
    deadline: float | None = None,
) -> AsyncIterator[str]:
    """The frames of the ``visible`` outbox events after ``after`` as they come (read when
    ``subscription`` signals), and a heartbeat comment after ``LIVE_HEARTBEAT_SECONDS`` without
    one; until the ``time.monotonic()`` ``deadline`` when there is one."""
    while deadline is None or time.monotonic() < deadline:
        batch = await sync_to_async(read_and_release)(events_after, after_id=after, visible=visible)
        for event in batch:
            yield frame(event)
            after = event.id
        if batch:
            # Read again before waiting: a full batch has more behind it, and so may a
            # signal that came while this one was read.
            continue
        wait: float = settings.LIVE_HEARTBEAT_SECONDS
        if deadline is not None:
            wait = min(wait, max(deadline - time.monotonic(), 0))
        if not await subscription.wait(wait):
            yield ": heartbeat\n\n"


@csrf_exempt  # as every DRF view: the OCS-APIRequest header is the CSRF guard (see authentication)
async def events(request: HttpRequest) -> HttpResponseBase:
    response = await sync_to_async(events_sync)(request)
    stream = getattr(response, "stream", None)
    if stream is None:
        return response
    await sync_to_async(read_and_release)(lambda: None)  # the preflight's connection goes back before streaming
    streaming = StreamingHttpResponse(event_stream(**stream), content_type="text/event-stream; charset=utf-8")
    streaming["Cache-Control"] = "no-cache"
    streaming["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return streaming


# drf-spectacular documents this route from the class, as it does for any APIView.
events.cls = EventStreamView  # type: ignore[attr-defined]
events.initkwargs = {}  # type: ignore[attr-defined]
