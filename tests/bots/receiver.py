"""A bot's webhook endpoint for the tests: an HTTP server on a loopback port of the bots' range
(18300-18399) that verifies each request as Talk's docs tell a bot to (HMAC-SHA256 with the secret
over the random and the body) and records it; ``statuses`` scripts its answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PORTS = range(18340, 18380)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str
    url: str = ""
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    received: list[Received] = field(default_factory=list)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            random = self.headers.get("X-Nextcloud-Talk-Random", "")
            digest = hmac.new(receiver.secret.encode(), random.encode() + body, hashlib.sha256).hexdigest()
            verified = hmac.compare_digest(digest, self.headers.get("X-Nextcloud-Talk-Signature", "").lower())
            receiver.received.append(Received(headers=dict(self.headers.items()), body=body, verified=verified))
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def receiving_bot(secret: str) -> Iterator[Receiver]:
    receiver = Receiver(secret=secret)
    server = None
    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), _handler(receiver))
            break
        except OSError:
            continue
    assert server is not None, "no free port in the bots' test range"
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
