"""What the soak and fault scripts share: a database of their own, the management commands, a
gunicorn with two workers, counting HTTP clients, the gunicorn log's 500s, and the SQL check of
the tree invariants (``tests.reliability.invariants``).

Black box: the scripts talk to the service over HTTP only (Basic auth with app passwords) and
read the database only to check invariants afterwards.
"""

from __future__ import annotations

import base64
import collections
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import servers  # noqa: E402
from tests.servers import free_port, manage, own_database, wait_until_up  # noqa: E402, F401  (the scripts' imports)

OCS = "/ocs/v2.php"
V4 = f"{OCS}/apps/spreed/api/v4"
V1 = f"{OCS}/apps/spreed/api/v1"
SECRET_KEY = "soak-secret-key-" + "x" * 40
DEMO_PASSWORD = "soak-demo-password"


# --- the database ------------------------------------------------------------------------------


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    return servers.service_env(
        database_url,
        secret_key=SECRET_KEY,
        drop=(*servers.SERVICE_SETTINGS_PREFIXES, "REDIS_"),
        DEMO_PASSWORD=DEMO_PASSWORD,
        USER_PASSWORD=DEMO_PASSWORD,
        # Races produce 404s by the hundred from one address: that is not token probing.
        BRUTEFORCE_PROTECTION="0",
        DJANGO_LOG_LEVEL="ERROR",
        **extra,
    )


def seed(env: dict[str, str], *, students: int) -> str:
    """Migrate, create teacher + studentN with the demo data, and the user ``assistant``; the
    class token is returned."""
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    token = manage(env, "seed_demo", "--students", str(students)).strip().splitlines()[-1]
    manage(env, "adduser", "assistant", "--display-name", "Assistant", "--password-from-env")
    return token


def django_setup(database_url: str) -> None:
    """Point this process's Django at the script's database (for the SQL invariant checks)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


# --- gunicorn ----------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def kill_workers(self) -> list[int]:
        """SIGKILL the workers (the master respawns them)."""
        pids = self.worker_pids()
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids


@contextmanager
def gunicorn(env: dict[str, str], workdir: Path, *, timeout: int = 120) -> Iterator[Server]:
    """``project.wsgi`` under gunicorn with two workers (``tests/servers.py``)."""
    with servers.gunicorn(env, workdir, timeout=timeout) as started:
        yield Server(process=started.process, port=started.port, log=started.log)


# --- HTTP --------------------------------------------------------------------------------------


def raw_request(
    port: int,
    method: str,
    path: str,
    *,
    auth: tuple[str, str] | None = None,
    params: dict[str, Any] | None = None,
    timeout: float = 120,
) -> tuple[int, Any]:
    headers = {"OCS-APIRequest": "true", "Accept": "application/json"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    body = None
    if params is not None:
        if method in ("GET", "DELETE"):
            path = f"{path}?{urllib.parse.urlencode(params)}"
        else:
            body = json.dumps(params).encode()
            headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw[:200]
    return response.status, payload


def ocs_data(payload: Any) -> Any:
    return payload["ocs"]["data"] if isinstance(payload, dict) and "ocs" in payload else None


@dataclass
class Tally:
    """Requests and statuses per endpoint, shared by all client threads."""

    statuses: collections.Counter = field(default_factory=collections.Counter)
    errors: collections.Counter = field(default_factory=collections.Counter)  # transport errors
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, endpoint: str, status: int) -> None:
        with self.lock:
            self.statuses[(endpoint, status)] += 1

    def error(self, endpoint: str, exc: BaseException) -> None:
        with self.lock:
            self.errors[(endpoint, type(exc).__name__)] += 1

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if status >= 500)

    def server_errors_by_endpoint(self) -> dict[str, int]:
        result: collections.Counter = collections.Counter()
        for (endpoint, status), n in self.statuses.items():
            if status >= 500:
                result[endpoint] += n
        return dict(result.most_common())


class Client:
    """One user's HTTP identity (app password) that counts what it gets into a ``Tally``."""

    def __init__(self, port: int, username: str, password: str, tally: Tally) -> None:
        self.port, self.auth, self.tally = port, (username, password), tally
        self.username = username

    def call(self, endpoint: str, method: str, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        try:
            status, payload = raw_request(self.port, method, path, auth=self.auth, params=params)
        except OSError as exc:
            self.tally.error(endpoint, exc)
            return 0, None
        self.tally.add(endpoint, status)
        return status, payload


def app_password(port: int, username: str) -> str:
    status, payload = raw_request(port, "GET", f"{OCS}/core/getapppassword", auth=(username, DEMO_PASSWORD))
    if status != 200:
        raise RuntimeError(f"no app password for {username}: {status} {payload}")
    return ocs_data(payload)["apppassword"]


# --- the gunicorn log ----------------------------------------------------------------------------

_UNHANDLED = re.compile(r"Unhandled error on (\w+) (\S+)")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|DoesNotExist|Deadlock\w*|Violation\w*)):?\s?(.*)$")
_TOKEN = re.compile(r"(?<=/room/|/chat/)[a-z0-9]{4,30}|(?<=/breakout-rooms/)[a-z0-9]{4,30}")


def server_errors_in_log(log: Path) -> collections.Counter:
    """(endpoint, cause) of each unhandled exception the service logged; the cause is the
    exception class and the first words of its message (deadlock, foreign key, DoesNotExist...)."""
    causes: collections.Counter = collections.Counter()
    current: tuple[str, str] | None = None
    last_exception = ""
    for line in log.read_text(errors="replace").splitlines() + ["Unhandled error on END /"]:
        match = _UNHANDLED.search(line)
        if match:
            if current is not None:
                causes[(current[0] + " " + current[1], last_exception or "unknown")] += 1
            path = _TOKEN.sub("{token}", match.group(2).removeprefix(OCS + "/apps/spreed/api"))
            current, last_exception = (match.group(1), path), ""
            continue
        exception = _EXCEPTION_LINE.match(line.strip())
        if current is not None and exception:
            message = " ".join(exception.group(2).split()[:6])
            last_exception = f"{exception.group(1).rsplit('.', 1)[-1]}: {message}"
    causes.pop(("END /", "unknown"), None)
    return causes


def print_causes(causes: collections.Counter) -> None:
    if not causes:
        return
    print("500s by endpoint and cause (gunicorn log):")
    for (endpoint, cause), n in causes.most_common():
        print(f"  {n:5d}  {endpoint:55s} {cause}")


def workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
