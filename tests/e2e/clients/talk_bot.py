"""A webhook bot built with Nextcloud's ``nc_py_api`` (its ``talk_bot`` module), run in the client
virtualenv (``make .venv-clients``) on a loopback port: ``python talk_bot.py PORT SECRET JOURNAL
[--hang-first]``.

nc_py_api's bot half is made for AppAPI, which checks the webhook signatures before a bot sees
them; so the check here is an independent verifier written from Talk's docs/bots.md
(HMAC-SHA256 with the secret over ``X-Nextcloud-Talk-Random`` and the body). A verified chat
message is parsed with nc_py_api's ``TalkBotMessage`` and answered with its ``TalkBot``: a reply
``echo: <text>`` (signed over random + message) and a 👍 reaction (signed over random +
reaction), sent to the ``X-Nextcloud-Talk-Backend`` the webhook names. Every webhook is
journaled (``<type> <verified> <delivery id>``). ``--hang-first`` never answers the first chat
message webhook (so a worker can be killed mid-delivery)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from nc_py_api.talk_bot import TalkBot, TalkBotMessage

warnings.simplefilter("ignore", DeprecationWarning)  # the sync TalkBot is deprecated, not gone

APP_ID = "breakout_echo_bot"
CALLBACK = "/webhook"


def main() -> None:
    port, secret, journal = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    hang_first = "--hang-first" in sys.argv
    # nc_py_api looks the secret up under sha1(APP_ID + "_" + callback_url), as an ExApp stores it.
    os.environ["APP_ID"] = APP_ID
    os.environ[hashlib.sha1(f"{APP_ID}_{CALLBACK.lstrip('/')}".encode()).hexdigest()] = secret
    bot = TalkBot(CALLBACK, "Echo", "Answers every message")
    lock = threading.Lock()
    state = {"hung": False}

    def write(line: str) -> None:
        with lock, open(journal, "a") as file:
            file.write(line + "\n")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            random = self.headers.get("X-Nextcloud-Talk-Random", "")
            expected = hmac.new(secret.encode(), random.encode() + body, hashlib.sha256).hexdigest()
            verified = hmac.compare_digest(expected, self.headers.get("X-Nextcloud-Talk-Signature", ""))
            message = TalkBotMessage(json.loads(body))
            write(f"{message.message_type} {int(verified)} {self.headers.get('X-Breakout-Delivery-Id', '-')}")
            if not verified:
                self.answer(401)
                return
            if message.message_type == "Create" and hang_first and not state["hung"]:
                state["hung"] = True
                write("hanging")
                time.sleep(60)
                return
            if message.message_type == "Create":
                os.environ["NEXTCLOUD_URL"] = self.headers["X-Nextcloud-Talk-Backend"]
                text = message.object_content["message"]
                response, _ = bot.send_message(f"echo: {text}", message)
                reacted = bot.react_to_message(message, "👍")
                write(f"answered {response.status_code} {reacted.status_code}")
            self.answer(200)

        def answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    write("listening")
    server.serve_forever()


if __name__ == "__main__":
    main()
