"""Chat long polling, as Talk does it: ``GET .../chat/{token}?lookIntoFuture=1&timeout=T`` holds
until a message newer than ``lastKnownMessageId`` exists in the room, then answers exactly as the
immediate read does; after ``timeout`` seconds (default 30, at most 30) it answers 304.

An async view in front of the sync chat view: the first read is the full sync view
(``LongPollChatView``: authentication, access checks, validation, the read), as it always was;
when it finds nothing new, this view waits on the live hub for a ``chat.message`` signal of the
room (posted through any worker or host), blocking no thread and holding no database connection.

Woken, it does not re-run the full view: the long polls of one room woken together in this
process join one batch (``RoomWaker``), answered by ``conversations.live_wake.wake_answers`` in
one thread with a constant number of statements, whatever the number of waiters; each gets the
bytes its own full read would have answered (see that module for what is re-checked per client).
A waiter the batch cannot answer (removed from the room, credential revoked, a lobby timer due)
runs the full view again. Every other request goes straight through to the sync view.

The full sync reads of long polls run at most ``SYNC_READS_AT_ONCE`` at a time per process, so
2,000 clients connecting at once queue for a few threads and database connections instead of
opening 2,000 (PostgreSQL refuses connections beyond ``max_connections``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from conversations.chat_extra_views import ChatWithHistoryView
from conversations.live_wake import FALLBACK, LongPollChatView, WaitTicket, WakeAnswer, wait_ticket, wait_ticket_clear
from conversations.live_wake import wake_answers as wake_answers_sync
from conversations.serializers import CHAT_WAIT_DEFAULT, CHAT_WAIT_MAX
from live import hub
from project.ocs.inputs import parse_strict_int

logger = logging.getLogger(__name__)

SYNC_READS_AT_ONCE = 16
# How long a batch waits for the other waiters woken by the same signal to join it.
BATCH_WINDOW_SECONDS = 0.005


def chat_wait_seconds(request: HttpRequest) -> int:
    """The ``timeout`` of a long poll, clamped to 0..30 as Talk does. The sync view has already
    answered 400 ``timeout`` for anything but an integer (``ChatReadInput``)."""
    value = parse_strict_int(request.GET.get("timeout"))
    return CHAT_WAIT_DEFAULT if value is None else max(0, min(value, CHAT_WAIT_MAX))


chat_sync = ChatWithHistoryView.as_view()
chat_wait_sync = LongPollChatView.as_view()


class RoomWaker:
    """The woken long polls of one room in one process, answered in batches: one batch in
    flight at a time; waiters woken meanwhile form the next one."""

    def __init__(self, token: str, wakers: dict[str, RoomWaker]) -> None:
        self.token = token
        self.wakers = wakers
        self.pending: list[tuple[WaitTicket, asyncio.Future[WakeAnswer]]] = []
        self.task: asyncio.Task[None] | None = None

    async def answer(self, ticket: WaitTicket) -> WakeAnswer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[WakeAnswer] = loop.create_future()
        self.pending.append((ticket, future))
        if self.task is None:
            self.task = loop.create_task(self._run(), name=f"chat-wake-{self.token}")
        return await future

    async def _run(self) -> None:
        batch: list[tuple[WaitTicket, asyncio.Future[WakeAnswer]]] = []
        try:
            while self.pending:
                await asyncio.sleep(BATCH_WINDOW_SECONDS)
                batch, self.pending = self.pending, []
                try:
                    answers = await sync_to_async(wake_answers_sync, thread_sensitive=False)(
                        self.token, [ticket for ticket, _ in batch]
                    )
                except Exception:
                    logger.exception("Answering %d woken long polls of one room failed", len(batch))
                    answers = [FALLBACK] * len(batch)
                for (_, future), answer in zip(batch, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
        finally:
            self.task = None
            for _, future in batch + self.pending:  # only when cancelled mid-batch: let them re-read
                if not future.done():
                    future.set_result(FALLBACK)
            self.pending = []
            if self.wakers.get(self.token) is self:
                del self.wakers[self.token]


_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, RoomWaker]] = weakref.WeakKeyDictionary()
_sync_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


async def wake_answer(token: str, ticket: WaitTicket) -> WakeAnswer:
    """This waiter's answer from the batch of its room (see ``RoomWaker``)."""
    wakers = _wakers.setdefault(asyncio.get_running_loop(), {})
    waker = wakers.get(token)
    if waker is None:
        waker = wakers[token] = RoomWaker(token, wakers)
    return await waker.answer(ticket)


async def full_read(request: HttpRequest, token: str) -> HttpResponse:
    """The full sync view of a long poll (at most ``SYNC_READS_AT_ONCE`` at once per process)."""
    slots = _sync_slots.get(asyncio.get_running_loop())
    if slots is None:
        slots = _sync_slots[asyncio.get_running_loop()] = asyncio.Semaphore(SYNC_READS_AT_ONCE)
    wait_ticket_clear(request)
    async with slots:
        response: HttpResponse = await sync_to_async(chat_wait_sync)(request, token=token)
    return response


@csrf_exempt  # as every DRF view: the OCS-APIRequest header is the CSRF guard (see authentication)
async def chat(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "GET" or request.GET.get("lookIntoFuture") != "1":
        return await sync_to_async(chat_sync)(request, token=token)
    loop = asyncio.get_running_loop()
    # Subscribed before the first read, so a message posted between that read and the wait
    # still wakes this request.
    async with await hub.subscribe([f"chat.message:{token}"]) as subscription:
        response = await full_read(request, token)
        ticket = wait_ticket(request)
        if response.status_code != 304 or ticket is None:
            return response
        deadline = loop.time() + chat_wait_seconds(request)
        if deadline <= loop.time():
            return response
        while True:
            woken = await subscription.wait(deadline - loop.time())
            answer = await wake_answer(token, ticket) if ticket.shareable else FALLBACK
            if answer is FALLBACK:
                read = await full_read(request, token)
                if read.status_code != 304 or (fresh := wait_ticket(request)) is None:
                    return read
                response, ticket = read, fresh
            elif isinstance(answer, HttpResponse):
                return answer
            if not woken:
                return response


# drf-spectacular documents this route from the class, as it does for any APIView.
chat.cls = ChatWithHistoryView  # type: ignore[attr-defined]
chat.initkwargs = {}  # type: ignore[attr-defined]
