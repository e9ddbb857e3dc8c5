"""The async tier's side of the fan-out: one listener per process (per event loop), many waiters.

A waiter subscribes to keys (see ``fanout.Signal.wake_keys``) *before* it checks the database, then
awaits its subscription: a signal that arrives between the check and the wait is not lost, it
sets the subscription's flag. Waiters block no thread and hold no database connection while they wait.

The listener is started by the first subscription and stopped some seconds after the last one
closes. It is one of:

- PostgreSQL: a psycopg 3 ``AsyncConnection`` in autocommit that ``LISTEN``s on the channel;
- Redis (``REDIS_URL``): a ``redis.asyncio`` pub/sub subscription;
- SQLite: one loop that polls the outbox's newest ids every ``LIVE_POLL_SECONDS``, shared by all
  the waiters of the process (not one query loop per waiter).

When the listener loses its connection it wakes every waiter (they re-check the outbox, so
nothing is missed) and reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection

from live import fanout
from live.models import Event

logger = logging.getLogger(__name__)

RECONNECT_DELAY_SECONDS = 1.0


class Subscription:
    def __init__(self, hub: Hub, keys: Iterable[str]) -> None:
        self.hub = hub
        self.keys = frozenset(keys)
        self._flag = asyncio.Event()

    def wake(self) -> None:
        self._flag.set()

    async def wait(self, timeout: float) -> bool:
        """True when woken (the flag is then cleared), False after ``timeout`` seconds."""
        if timeout <= 0 and not self._flag.is_set():
            return False
        try:
            await asyncio.wait_for(self._flag.wait(), timeout)
        except TimeoutError:
            return False
        self._flag.clear()
        return True

    def close(self) -> None:
        self.hub._remove(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiters: dict[str, set[Subscription]] = defaultdict(set)
        self.count = 0
        self.listener: asyncio.Task[None] | None = None
        self.ready: asyncio.Event = asyncio.Event()
        self.stopper: asyncio.TimerHandle | None = None

    async def subscribe(self, keys: Iterable[str]) -> Subscription:
        """A subscription to ``keys``, returned once the listener is listening."""
        subscription = Subscription(self, keys)
        for key in subscription.keys:
            self.waiters[key].add(subscription)
        self.count += 1
        if self.stopper is not None:
            self.stopper.cancel()
            self.stopper = None
        if self.listener is None or self.listener.done():
            self.ready = asyncio.Event()
            self.listener = self.loop.create_task(self._listen(), name="live-listener")
        await self.ready.wait()
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        for key in subscription.keys:
            waiters = self.waiters.get(key)
            if waiters is not None:
                waiters.discard(subscription)
                if not waiters:
                    del self.waiters[key]
        self.count -= 1
        if self.count == 0 and self.listener is not None:
            self.stopper = self.loop.call_later(settings.LIVE_LISTENER_LINGER_SECONDS, self._stop)

    def _stop(self) -> None:
        self.stopper = None
        if self.count == 0 and self.listener is not None:
            self.listener.cancel()
            self.listener = None

    def dispatch(self, signals: list[fanout.Signal] | None) -> None:
        """Wake the subscriptions of the signals' keys (all of them for None)."""
        if signals is None:
            woken = {s for subscriptions in self.waiters.values() for s in subscriptions}
        else:
            woken = set()
            for signal in signals:
                for key in signal.wake_keys():
                    woken.update(self.waiters.get(key, ()))
        for subscription in woken:
            subscription.wake()

    async def _listen(self) -> None:
        kind = await sync_to_async(fanout.transport, thread_sensitive=False)()
        listen = {"postgres": self._listen_postgres, "redis": self._listen_redis, "poll": self._poll}[kind]
        while True:
            try:
                await listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Live listener (%s) failed; reconnecting", kind)
            # Waiters must not hang on a listener that cannot connect: they time out as usual.
            self.ready.set()
            await asyncio.sleep(RECONNECT_DELAY_SECONDS)

    def _listening(self) -> None:
        if self.ready.is_set():
            self.dispatch(None)  # a reconnect: signals may have been missed meanwhile
        else:
            self.ready.set()

    async def _listen_postgres(self) -> None:
        import psycopg

        params = await sync_to_async(_postgres_params, thread_sensitive=False)()
        conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
        try:
            await conn.execute(f"LISTEN {fanout.LIVE_CHANNEL}")
            self._listening()
            async for notify in conn.notifies():
                self.dispatch(fanout.decode(notify.payload))
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _listen_redis(self) -> None:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(fanout.LIVE_CHANNEL)
            self._listening()
            while True:
                message = await pubsub.get_message(timeout=30.0)
                if message is not None and message.get("type") == "message":
                    self.dispatch(fanout.decode(message["data"]))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
                await client.aclose()

    async def _poll(self) -> None:
        last_id = await sync_to_async(_newest_event_id, thread_sensitive=False)()
        self._listening()
        while True:
            await asyncio.sleep(settings.LIVE_POLL_SECONDS)
            rows = await sync_to_async(_signals_after, thread_sensitive=False)(last_id)
            if rows:
                last_id = rows[-1][0]
                self.dispatch([signal for _, signal in rows])


def _postgres_params() -> dict[str, Any]:
    """Connection parameters of the default database for psycopg (the LISTEN connection is
    separate from Django's, which must never sit in LISTEN across requests)."""
    close_old_connections()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.pop("pool", None)
    return params


def _newest_event_id() -> int:
    try:
        return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    finally:
        connection.close()


def _signals_after(last_id: int) -> list[tuple[int, fanout.Signal]]:
    try:
        rows = Event.objects.filter(id__gt=last_id).order_by("id").values_list("id", "type", "token", "parent_token")
        return [(pk, fanout.Signal(type=t, token=k, parent_token=p)) for pk, t, k, p in rows[:1000]]
    finally:
        connection.close()


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def waiting_clients() -> int:
    """How many long polls and event streams this process holds waiting now (the subscriptions
    of its hubs, one hub per event loop). Cheap (no SQL), callable from any thread: the metrics
    scrape reads it (``breakout.metrics.waiting_clients_source``)."""
    return sum(hub.count for hub in list(_hubs.values()))


def get_hub() -> Hub:
    """The hub of the running event loop (one per worker process under uvicorn)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(loop)
    return hub


async def subscribe(keys: Iterable[str]) -> Subscription:
    return await get_hub().subscribe(keys)
