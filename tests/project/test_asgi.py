"""The ASGI entry point (``project.asgi``): a sync view is served through the whole middleware
chain in one thread hop; the waiting endpoints (async views) keep the async chain."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.core.handlers.base import BaseHandler
from django.http import HttpResponse
from django.test import RequestFactory

import project.asgi
from project.asgi import OneHopASGIHandler, application, is_async_view


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records every ``sync_to_async`` call (a hop from the event loop to a thread)."""
    calls: list[str] = []
    original = SyncToAsync.__call__

    async def counted(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    yield calls


async def call(app: Any, path: str, method: str = "GET") -> list[dict[str, Any]]:
    """One request through an ASGI application, as uvicorn makes it; the messages it sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []
    delivered = False
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            finished.set()

    await app(scope, receive, send)
    return sent


def get(path: str, app: Any = application) -> tuple[int, dict[bytes, bytes], bytes]:
    sent = asyncio.run(call(app, path))
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], {name.lower(): value for name, value in start["headers"]}, body


def test_a_sync_view_takes_one_hop_for_the_whole_middleware_chain(hops: list[str]) -> None:
    status, headers, body = get("/healthz")

    assert status == 200, body
    assert body == b'{"status": "ok"}'
    # The middleware ran (RequestIdMiddleware first, XFrameOptionsMiddleware last but one).
    assert b"x-request-id" in headers
    assert headers[b"x-frame-options"] == b"DENY"
    # Django's handler hops for the request_started receivers and for response.close() (the
    # request_finished receivers close the request's database connection in its own thread);
    # the chain and the view take one hop between them (Django's async chain took one per
    # process_request / process_response / process_view of every MiddlewareMixin, and the view).
    chain = [name for name in hops if name not in ("Signal.asend.<locals>.sync_send", "HttpResponseBase.close")]
    assert chain == ["BaseHandler.get_response"], hops
    assert len(hops) == 3, hops


def test_a_url_unknown_to_the_routes_goes_through_the_sync_chain(hops: list[str]) -> None:
    status, _, _ = get("/no/such/page")

    assert status == 404
    assert "BaseHandler.get_response" in hops


def test_the_waiting_endpoints_are_async_views_and_keep_the_async_chain() -> None:
    factory = RequestFactory()

    assert is_async_view(factory.get("/ocs/v2.php/apps/spreed/api/v1/chat/abcdefgh"))
    assert is_async_view(factory.get("/api/v1/events"))
    assert not is_async_view(factory.get("/healthz"))
    assert not is_async_view(factory.get("/ocs/v2.php/apps/spreed/api/v4/room"))
    assert not is_async_view(factory.get("/no/such/page"))


def test_the_entry_point_serves_through_the_one_hop_handler() -> None:
    handler = application.__closure__[0].cell_contents  # type: ignore[attr-defined]
    assert isinstance(handler, OneHopASGIHandler)


def test_requests_reuse_an_idle_thread_and_each_runs_in_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    executors: list[ThreadPoolExecutor] = []

    class Recorded(ThreadPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            executors.append(self)

    served_in: list[str] = []
    original = BaseHandler.get_response

    def recorded(self: BaseHandler, request: Any) -> Any:
        served_in.append(threading.current_thread().name)
        return original(self, request)

    monkeypatch.setattr(project.asgi, "ThreadPoolExecutor", Recorded)
    monkeypatch.setattr(BaseHandler, "get_response", recorded)
    handler = OneHopASGIHandler()

    def settle() -> None:
        # The thread goes back to the idle ones after the work queued before it: a job queued
        # after that has run once it is back.
        for executor in executors:
            executor.submit(lambda: None).result()

    assert get("/healthz", handler)[0] == 200
    settle()
    assert get("/healthz", handler)[0] == 200
    settle()

    assert len(executors) == 1  # the second request got the first one's thread back
    assert served_in == [served_in[0]] * 2 and served_in[0] != threading.current_thread().name
    executors[0].shutdown()


def test_a_switch_waits_for_its_lane_in_the_event_loop_before_its_hop(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a lane of width 1, a second switch does not reach the hop to a thread until the
    first is answered; another request passes meanwhile."""
    settings.SWITCH_CONCURRENCY = 1
    entered: list[str] = []
    release = asyncio.Event()

    async def hop(self: OneHopASGIHandler, request: Any) -> Any:
        entered.append(request.method)
        if request.method == "POST":
            await release.wait()
        return HttpResponse("done")

    monkeypatch.setattr(OneHopASGIHandler, "_in_one_thread", hop)
    handler = OneHopASGIHandler()
    switch = "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/abc123/switch"

    async def scenario() -> list[list[str]]:
        seen = []
        first = asyncio.ensure_future(call(handler, switch, "POST"))
        second = asyncio.ensure_future(call(handler, switch, "POST"))
        for _ in range(50):
            await asyncio.sleep(0)
        seen.append(list(entered))
        await call(handler, "/healthz")
        seen.append(list(entered))
        release.set()
        await asyncio.gather(first, second)
        seen.append(list(entered))
        return seen

    assert asyncio.run(scenario()) == [["POST"], ["POST", "GET"], ["POST", "GET", "POST"]]
