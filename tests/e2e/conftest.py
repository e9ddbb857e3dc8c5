"""A real gunicorn (2 uvicorn workers, ASGI) on a free 127.0.0.1 port, against a database of its own.

SQLite runs use a fresh database file in a temporary directory; PostgreSQL runs (when the test
run's DATABASE_URL points at PostgreSQL) use a dedicated database named after the test
database with the suffix ``_e2e``, dropped afterwards. The schema is created with
``manage.py migrate`` and the demo data with ``manage.py seed_demo``, exactly as an operator
would, so these tests also cover the commands end to end.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.servers import gunicorn, manage, own_database, service_env

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "e2e-demo-password"
STUDENTS = 6
STARTUP_SECONDS = 30


@dataclass
class Answer:
    status: int
    headers: Message  # header names are case-insensitive (uvicorn sends them in lower case)
    body: Any

    @property
    def data(self) -> Any:
        return self.body["ocs"]["data"]

    @property
    def meta(self) -> dict[str, Any]:
        return self.body["ocs"]["meta"]


@dataclass
class LiveServer:
    url: str
    token: str
    log: Path
    env: dict[str, str] = field(repr=False)

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: tuple[str, str] | None = None,
        data: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        all_headers = {"OCS-APIRequest": "true", "Accept": "application/json", **(headers or {})}
        body = None
        if auth is not None:
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            all_headers["Authorization"] = f"Basic {credentials}"
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=body, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw, response_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, response_headers = error.code, error.read(), error.headers
        return Answer(status=status, headers=response_headers, body=json.loads(raw) if raw else None)


def postgres_url_of(default: dict[str, Any]) -> str | None:
    """The test run's PostgreSQL database as a URL (None on SQLite)."""
    if default["ENGINE"] != "django.db.backends.postgresql":
        return None
    user = urllib.parse.quote(default.get("USER") or "postgres")
    password = default.get("PASSWORD") or ""
    credentials = f"{user}:{urllib.parse.quote(password)}" if password else user
    host, port = default.get("HOST") or "127.0.0.1", default.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{default['NAME']}"


@pytest.fixture(scope="session")
def live_server_e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_live_server(tmp_path_factory) as server:
        yield server


@contextmanager
def start_live_server(
    tmp_path_factory: pytest.TempPathFactory,
    *,
    name: str = "e2e",
    extra_env: dict[str, str] | None = None,
    share_database_of: LiveServer | None = None,
) -> Iterator[LiveServer]:
    """A seeded gunicorn on a database of its own (suffix ``name``); ``extra_env`` adds settings.
    With ``share_database_of`` it is a second server (another "host") on that server's database."""
    workdir = tmp_path_factory.mktemp(name)
    if share_database_of is not None:
        env = {**share_database_of.env, **(extra_env or {})}
        with _serve(env, workdir, token=share_database_of.token) as server:
            yield server
        return
    with own_database(postgres_url_of(settings.DATABASES["default"]), name, workdir) as database_url:
        env = service_env(
            database_url, secret_key="e2e-secret-key-" + "x" * 40, DEMO_PASSWORD=DEMO_PASSWORD, **(extra_env or {})
        )
        manage(env, "migrate", "--noinput", "--verbosity", "0", timeout=120)
        token = manage(env, "seed_demo", "--students", str(STUDENTS), timeout=120).strip().splitlines()[-1]
        with _serve(env, workdir, token=token) as server:
            yield server


@contextmanager
def _serve(env: dict[str, str], workdir: Path, *, token: str) -> Iterator[LiveServer]:
    """gunicorn with uvicorn workers on ``project.asgi``, as ``make serve`` runs it."""
    with gunicorn(env, workdir, asgi=True, timeout=60, startup_seconds=STARTUP_SECONDS) as started:
        yield LiveServer(url=started.url, token=token, log=started.log, env=env)
