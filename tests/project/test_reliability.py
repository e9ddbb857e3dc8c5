"""Issue 8, defects 4-8: a dead Redis, hostile charsets, identical 404s, the production recipe's
`check --deploy` and health-checked PostgreSQL connections."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from accounts.models import User
from conversations.models import Conversation
from tests.conftest import V1, V4
from tests.factories import ConversationFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}", "HTTP_OCS_APIREQUEST": "true", "HTTP_ACCEPT": "application/json"}


# --- defect 4: Redis down ------------------------------------------------------------------------


@pytest.fixture
def dead_redis(settings: Any) -> Any:
    """REDIS_URL's caches, pointing at a closed port, as settings.py builds them."""
    location = f"redis://127.0.0.1:{closed_port()}/0"
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    settings.CACHES = {
        "default": {"BACKEND": "project.cache.FailSoftRedisCache", "LOCATION": location, "OPTIONS": options},
        "bruteforce": {
            "BACKEND": "project.cache.BreakerRedisCache",
            "LOCATION": location,
            "OPTIONS": options,
        },
    }
    settings.BRUTEFORCE_PROTECTION = True
    settings.CREDENTIAL_CACHE_SECONDS = 300
    return settings


@pytest.fixture
def alice(db: None) -> User:
    return UserFactory(username="alice", password="alice-password")


def test_with_redis_down_capabilities_and_password_logins_keep_answering(
    dead_redis: Any, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    with caplog.at_level(logging.WARNING):
        capabilities = client.get("/ocs/v2.php/cloud/capabilities", HTTP_ACCEPT="application/json")
        rooms = client.get(f"{V4}/room", **basic("alice", "alice-password"))
        again = client.get(f"{V4}/room", **basic("alice", "alice-password"))  # the cache would answer this one
        wrong = client.get(f"{V4}/room", **basic("alice", "wrong"))

    assert (capabilities.status_code, rooms.status_code, again.status_code, wrong.status_code) == (200, 200, 200, 401)
    guard_lines = [r.getMessage() for r in caplog.records if r.name == "project.bruteforce.guard"]
    assert any("fail open" in line for line in guard_lines)
    assert any(r.name == "project.cache" and "Redis cache unavailable" in r.getMessage() for r in caplog.records)


def test_with_redis_down_and_the_guard_failing_closed_requests_get_503(dead_redis: Any, alice: User) -> None:
    dead_redis.BRUTEFORCE_FAIL_CLOSED = True

    response = Client().get(f"{V4}/room", **basic("alice", "alice-password"))

    assert response.status_code == 503
    assert response.json()["ocs"]["meta"] == {
        "status": "failure",
        "statuscode": 503,
        "message": "Service temporarily unavailable",
    }
    assert int(response["Retry-After"]) > 0


def test_with_redis_down_the_admin_login_still_works_when_failing_open(dead_redis: Any, db: None) -> None:
    UserFactory(username="root", password="right-password", is_staff=True)

    response = Client().post("/admin/login/", {"username": "root", "password": "right-password", "next": "/admin/"})

    assert response.status_code == 302


def test_after_a_redis_failure_the_cache_stops_calling_redis_for_a_while(dead_redis: Any) -> None:
    from django.core.cache import caches
    from redis.exceptions import ConnectionError as RedisConnectionError

    cache = caches["default"]
    calls: list[str] = []

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        calls.append("get")
        raise RedisConnectionError("connection refused")

    cache._cache._client.get = unreachable

    answers = [cache.get("key", "missing") for _ in range(5)]

    assert answers == ["missing"] * 5
    assert calls == ["get"]  # one timeout at most, then no call until the suspension ends


# --- defect 5: charsets --------------------------------------------------------------------------


@pytest.fixture
def chat_room(alice: User) -> Conversation:
    from tests.factories import AttendeeFactory

    conversation = ConversationFactory(name="Chat")
    AttendeeFactory(room=conversation, user=alice)
    return conversation


@pytest.mark.parametrize("charset", ["base64", "rot13", "hex", "zlib", "bz2", "no-such-charset", "utf-99"])
def test_a_json_body_in_a_charset_that_is_not_a_text_encoding_is_415_not_500(
    alice: User, chat_room: Conversation, charset: str
) -> None:
    response = Client().generic(
        "POST",
        f"{V1}/chat/{chat_room.token}",
        json.dumps({"message": "hello"}).encode(),
        content_type=f"application/json; charset={charset}",
        **basic("alice", "alice-password"),
    )

    assert response.status_code == 415
    assert response.json() == {
        "ocs": {"meta": {"status": "failure", "statuscode": 415, "message": "Unsupported charset"}, "data": []}
    }


def test_a_form_body_in_rot13_is_415_not_500(alice: User, chat_room: Conversation) -> None:
    response = Client().generic(
        "POST",
        f"{V1}/chat/{chat_room.token}",
        b"message=hello",
        content_type="application/x-www-form-urlencoded; charset=rot13",
        **basic("alice", "alice-password"),
    )

    assert response.status_code == 415


def test_a_real_text_charset_still_works(alice: User, chat_room: Conversation) -> None:
    response = Client().generic(
        "POST",
        f"{V1}/chat/{chat_room.token}",
        json.dumps({"message": "héllo"}, ensure_ascii=False).encode("latin-1"),
        content_type="application/json; charset=latin-1",
        **basic("alice", "alice-password"),
    )

    assert response.status_code == 201
    assert response.json()["ocs"]["data"]["message"] == "héllo"


def test_a_bodyless_get_ignores_a_charset_that_is_not_a_text_encoding(db: None) -> None:
    response = Client().get(
        "/ocs/v2.php/cloud/capabilities", CONTENT_TYPE="text/plain; charset=rot13", HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 200


def test_the_wsgi_entry_point_takes_an_unusable_charset_out_before_django_reads_the_query(db: None) -> None:
    # Django decodes the query string while it builds the request, with the declared charset:
    # LookupError there escaped every middleware (gunicorn's HTML 500). Over real HTTP in
    # tests/e2e/test_reliability_http.py.
    from io import BytesIO

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from project.wsgi import application

    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/ocs/v2.php/cloud/capabilities",
        "QUERY_STRING": "format=json",
        "CONTENT_TYPE": "text/plain; charset=rot13",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.input": BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }

    # As Django's test client does: keep the test's connection (and its transaction) open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)

    assert statuses == ["200 OK"]
    assert json.loads(body)["ocs"]["meta"]["statuscode"] == 200


# --- defect 8: every 404 the same ----------------------------------------------------------------


@pytest.fixture
def foreign_token(db: None) -> str:
    return ConversationFactory(name="Not yours").token


@pytest.mark.parametrize("prefix", ["/ocs/v2.php", "/ocs/v1.php"])
def test_every_token_404_is_byte_identical_with_identical_headers(alice: User, foreign_token: str, prefix: str) -> None:
    client = Client()
    paths = [
        f"{prefix}/apps/spreed/api/v4/room/ZZZ",  # outside Talk's token pattern
        f"{prefix}/apps/spreed/api/v4/room/zzzzzzzz",  # well formed, unknown
        f"{prefix}/apps/spreed/api/v4/room/{foreign_token}",  # exists, caller not in it
        f"{prefix}/apps/spreed/api/v4/room/ZZZ/participants",
        f"{prefix}/apps/spreed/api/v4/room/{foreign_token}/participants",
        f"{prefix}/apps/spreed/api/v1/chat/Z_Z",
    ]

    answers = [client.get(path, **basic("alice", "alice-password")) for path in paths]

    def headers(answer: Any) -> dict[str, str]:
        # Every response carries its own request id (operations): the one header that may differ.
        return {name: value for name, value in answer.items() if name != "X-Request-Id"}

    first = answers[0]
    assert first.status_code == (404 if prefix.endswith("v2.php") else 200)
    for answer in answers:
        assert (answer.status_code, answer.content, headers(answer)) == (
            first.status_code,
            first.content,
            headers(first),
        )
    assert "Allow" not in first


# --- defect 7: the production recipe passes check --deploy -------------------------------------


def production_recipe_environment() -> dict[str, str]:
    """The variables that README's "Serving in production" recipe exports."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Serving in production", 1)[1]
    recipe = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert recipe is not None, "README's production section has no sh block"
    env: dict[str, str] = {}
    for line in recipe.group(1).replace("\\\n", " ").splitlines():  # join continued lines
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                env[name] = value
    return env


def test_the_readme_production_recipe_passes_check_deploy() -> None:
    recipe = production_recipe_environment()
    assert "DJANGO_SECURE_HSTS_SECONDS" in recipe
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env.update(recipe)
    # The recipe's secret key is a placeholder for a random one of the same length.
    env["DJANGO_SECRET_KEY"] = "p7R#v2Lq9!zX" * 5

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("proxies", "expected"), [("0", "None"), ("1", "('HTTP_X_FORWARDED_PROTO', 'https')")])
def test_behind_trusted_proxies_https_is_read_from_x_forwarded_proto(proxies: str, expected: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        {"DJANGO_SETTINGS_MODULE": "project.settings", "DJANGO_SECRET_KEY": "k" * 50, "TRUSTED_PROXIES": proxies}
    )
    probe = "import django; django.setup(); from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


# --- defect 6: health-checked PostgreSQL connections ---------------------------------------------


def test_postgresql_connections_are_health_checked() -> None:
    from project.settings import _database_from_url

    config = _database_from_url("postgres://postgres@127.0.0.1:5432/anything")

    # Under ASGI connections are not kept (DATABASE_CONN_MAX_AGE defaults to 0); where an
    # operator keeps them (WSGI), a kept connection is checked before a request reuses it.
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL run's own connection")
def test_the_running_postgresql_connection_is_health_checked() -> None:
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


# --- the database down: 503, not 500 ---------------------------------------------------------------


def test_connection_errors_are_unavailable_and_query_errors_are_not() -> None:
    import sqlite3

    import psycopg
    from django.db import InterfaceError, OperationalError

    from project.ocs.fallback import is_database_unavailable

    def django_error(cause: BaseException) -> OperationalError:
        error = OperationalError(str(cause))
        error.__cause__ = cause
        return error

    assert is_database_unavailable(django_error(psycopg.OperationalError("connection failed: Connection refused")))
    assert is_database_unavailable(django_error(psycopg.errors.AdminShutdown("terminating connection")))
    assert is_database_unavailable(django_error(psycopg.errors.CannotConnectNow("the database system is starting")))
    assert is_database_unavailable(InterfaceError("connection already closed"))
    assert not is_database_unavailable(django_error(psycopg.errors.DeadlockDetected("deadlock detected")))
    assert not is_database_unavailable(django_error(psycopg.errors.QueryCanceled("statement timeout")))
    assert not is_database_unavailable(django_error(sqlite3.OperationalError("database is locked")))
    assert not is_database_unavailable(RuntimeError("boom"))


def _refused_connection() -> BaseException:
    import psycopg
    from django.db import OperationalError

    error = OperationalError("connection failed: Connection refused")
    error.__cause__ = psycopg.OperationalError("connection failed: Connection refused")
    return error


def test_a_view_that_finds_the_database_down_answers_503_in_the_envelope(
    client_for: Any, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(**kwargs: Any) -> dict:
        raise _refused_connection()

    monkeypatch.setattr("accounts.views.talk_capabilities", refused)
    client = client_for(alice)
    client.raise_request_exception = False

    response = client.get("/ocs/v2.php/cloud/capabilities")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "ocs": {"meta": {"status": "failure", "statuscode": 503, "message": "Service Unavailable"}, "data": []}
    }


def test_a_middleware_that_finds_the_database_down_answers_503_too(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(request: Any) -> None:
        raise _refused_connection()

    monkeypatch.setattr("project.bruteforce.guard.refusal", refused)
    client = Client(raise_request_exception=False)

    ocs = client.get("/ocs/v2.php/cloud/capabilities", HTTP_OCS_APIREQUEST="true", HTTP_ACCEPT="application/json")
    admin = client.get("/admin/login/", HTTP_AUTHORIZATION="Basic eDp5")

    assert (ocs.status_code, ocs["Retry-After"]) == (503, "5")
    assert ocs.json()["ocs"]["meta"]["statuscode"] == 503
    assert (admin.status_code, admin["Retry-After"], admin.content) == (503, "5", b"Service Unavailable\n")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a real PostgreSQL connection")
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_connection_terminated_by_the_server_is_503_not_500(client_for: Any) -> None:
    import psycopg

    user = UserFactory()
    client = client_for(user)
    client.raise_request_exception = False
    assert client.get(f"{V4}/room").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    settings_dict = connection.settings_dict
    with psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    try:
        # The test client keeps the connection across requests (no health check at its start),
        # so this request meets the terminated connection mid-request, as a worker would when
        # the server goes away during a request.
        response = client.get(f"{V4}/room")
    finally:
        connection.close()

    assert response.status_code == 503
    assert response.json()["ocs"]["meta"] == {"status": "failure", "statuscode": 503, "message": "Service Unavailable"}
