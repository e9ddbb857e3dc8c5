"""Reading the event stream in-process (Django's AsyncClient) until a condition holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from django.test import AsyncClient

from accounts.models import User

EVENTS_URL = "/api/v1/events"


@dataclass
class Frame:
    id: int | None = None
    event: str | None = None
    data: Any = None
    comments: list[str] = field(default_factory=list)


def parse(frame: str) -> Frame:
    parsed = Frame()
    for line in frame.splitlines():
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            parsed.comments.append(value)
        elif name == "id":
            parsed.id = int(value)
        elif name == "event":
            parsed.event = value
        elif name == "data":
            parsed.data = json.loads(value)
    return parsed


@dataclass
class StreamRead:
    status: int
    content_type: str
    frames: list[Frame]
    body: bytes = b""

    @property
    def events(self) -> list[Frame]:
        return [frame for frame in self.frames if frame.event is not None]


def until_heartbeat(frames: list[Frame]) -> bool:
    return any("heartbeat" in comment for frame in frames for comment in frame.comments)


def read_stream(
    user: User | None,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    until: Callable[[list[Frame]], bool] = until_heartbeat,
) -> StreamRead:
    """Open the stream as ``user`` (a session, as the web client has), read frames until
    ``until(frames)`` holds, then disconnect."""
    client = AsyncClient()
    if user is not None:
        client.force_login(user)

    async def run() -> StreamRead:
        response = await client.get(EVENTS_URL, params or {}, headers={"OCS-APIRequest": "true", **(headers or {})})
        if not response.streaming:
            return StreamRead(response.status_code, response["Content-Type"], [], response.content)
        frames: list[Frame] = []
        buffer = ""
        iterator = aiter(response.streaming_content)
        try:
            async for chunk in iterator:
                buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
                while "\n\n" in buffer:
                    text, buffer = buffer.split("\n\n", 1)
                    frames.append(parse(text))
                if until(frames):
                    break
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()
        return StreamRead(response.status_code, response["Content-Type"], frames)

    return async_to_sync(run)()
