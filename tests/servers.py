"""The service started as an operator runs it, for the black-box tests (``tests/e2e``) and the
soak and fault scripts (``tests/soak``): a database of its own, the management commands, and
gunicorn on a free 127.0.0.1 port. Imports neither pytest nor Django (the scripts run alone)."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAPABILITIES = "/ocs/v2.php/cloud/capabilities"
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def postgres_admin(url: str, sql: str) -> None:
    """Run ``sql`` (CREATE/DROP DATABASE) on the server of ``url``, outside any transaction."""
    import psycopg

    parts = urllib.parse.urlparse(url)
    with psycopg.connect(
        dbname="postgres",
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        autocommit=True,
    ) as connection:
        connection.execute(sql)


@contextmanager
def own_database(base_url: str | None, suffix: str, workdir: Path) -> Iterator[str]:
    """A fresh database for one run: PostgreSQL ``<name>_<suffix>`` next to the one of
    ``base_url`` (dropped afterwards), or a SQLite file in ``workdir`` when no PostgreSQL URL."""
    if base_url and base_url.startswith(("postgres://", "postgresql://")):
        parts = urllib.parse.urlparse(base_url)
        name = f"{parts.path.lstrip('/') or 'breakout'}_{suffix}"[:63]
        url = urllib.parse.urlunparse(parts._replace(path=f"/{name}"))
        postgres_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        postgres_admin(base_url, f'CREATE DATABASE "{name}"')
        try:
            yield url
        finally:
            postgres_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{workdir / f'{suffix}.sqlite3'}"


SERVICE_SETTINGS_PREFIXES = ("DJANGO_", "DATABASE_", "BRUTEFORCE_", "PYTEST_")


def service_env(
    database_url: str, *, secret_key: str, drop: tuple[str, ...] = SERVICE_SETTINGS_PREFIXES, **settings: str
) -> dict[str, str]:
    """The environment of a service process: this one's without the settings of the test run
    (variables starting with ``drop``), the database, a production-like Django and ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_SECRET_KEY": secret_key,
            "DJANGO_DEBUG": "0",
            "DATABASE_URL": database_url,
            "PYTHONUNBUFFERED": "1",
            **settings,
        }
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 600) -> str:
    """``manage.py`` with ``env``; its output, or RuntimeError with the output when it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def answers(port: int, *, timeout: float = 5) -> bool:
    """Whether the service on ``port`` answers capabilities with 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", CAPABILITIES, headers={"OCS-APIRequest": "true", "Accept": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        connection.close()


def wait_until_up(port: int, *, seconds: float = STARTUP_SECONDS, process: subprocess.Popen | None = None) -> float:
    """Seconds until capabilities answers 200 (RuntimeError after ``seconds``, or at once when
    ``process`` has exited)."""
    began = time.monotonic()
    while not answers(port):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}")
        if time.monotonic() - began > seconds:
            raise RuntimeError(f"the service did not answer within {seconds} s")
        time.sleep(0.1)
    return time.monotonic() - began


@dataclass
class Gunicorn:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def gunicorn(
    env: dict[str, str],
    workdir: Path,
    *,
    asgi: bool = False,
    timeout: int = 120,
    startup_seconds: float = STARTUP_SECONDS,
) -> Iterator[Gunicorn]:
    """gunicorn with two workers on a free port: ``project.asgi`` with uvicorn workers as ``make
    serve`` runs it (``asgi``), else ``project.wsgi``; its output goes to ``workdir/gunicorn.log``.
    Yields once capabilities answers; stopped (SIGTERM, then SIGKILL) afterwards."""
    port = free_port()
    log = workdir / "gunicorn.log"
    application = (
        ["project.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker"] if asgi else ["project.wsgi"]
    )
    command = [sys.executable, "-m", "gunicorn", *application, "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    command += ["--timeout", str(timeout), "--error-logfile", "-"]
    with log.open("w") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        try:
            wait_until_up(port, seconds=startup_seconds, process=process)
        except RuntimeError:
            raise RuntimeError(f"gunicorn did not start:\n{log.read_text()}") from None
        yield Gunicorn(process=process, port=port, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
