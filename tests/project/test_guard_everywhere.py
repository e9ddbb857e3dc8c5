"""Every password check is behind the brute-force guard, whose counters all workers share
(issue 8, defect 3), and unknown OCS routes do not count while unknown tokens do (issue 10)."""

from __future__ import annotations

import base64
import threading
import uuid
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

from accounts.models import User
from conversations.models import Conversation
from project.bruteforce import guard
from project.bruteforce.models import FailureWindow
from tests.conftest import V4, requires_postgres
from tests.factories import UserFactory

ADDRESS = "10.0.0.1"
SCHEMA = "/api/schema/"
# Our own API outside /ocs/ that checks Basic credentials (the event stream).
EVENTS = "/api/v1/events"


@pytest.fixture
def protection(settings: Any) -> Any:
    settings.BRUTEFORCE_PROTECTION = True
    settings.BRUTEFORCE_MAX_ATTEMPTS = 3
    settings.BRUTEFORCE_WINDOW_SECONDS = 60
    return settings


@pytest.fixture
def redis_counters(settings: Any) -> Any:
    """The guard's counters in the running Redis, under a key prefix of this test alone."""
    settings.CACHES = {
        **settings.CACHES,
        guard.CACHE_ALIAS: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"test-guard-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    try:
        caches[guard.CACHE_ALIAS].get("ping")
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no Redis here"
        pytest.skip(f"no Redis on 127.0.0.1:6379: {exc}")
    return settings


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}", "REMOTE_ADDR": ADDRESS}


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(username="root", password="right-password", is_staff=True, is_superuser=True)


# --- Basic auth outside /ocs/ ----------------------------------------------------------------


def test_basic_auth_outside_ocs_is_refused_after_the_limit_even_with_the_right_password(
    protection: Any, admin_user: User
) -> None:
    client = Client()

    wrong = [client.get(EVENTS, **basic("root", "guess")).status_code for _ in range(3)]
    right = client.get(EVENTS, **basic("root", "right-password"))

    assert wrong == [401, 401, 401]
    assert right.status_code == 429
    assert 1 <= int(right["Retry-After"]) <= 61


def test_the_public_schema_checks_no_password_so_it_cannot_be_used_to_guess_one(
    protection: Any, admin_user: User
) -> None:
    client = Client()
    answers = [client.get(SCHEMA, **basic("root", "guess")).status_code for _ in range(5)]

    assert answers == [200] * 5
    assert client.get(f"{V4}/room", HTTP_OCS_APIREQUEST="true", **basic("root", "right-password")).status_code == 200


def test_failed_basic_auth_outside_ocs_and_inside_share_one_counter(protection: Any, admin_user: User) -> None:
    client = Client()
    client.get(EVENTS, **basic("root", "guess"))
    client.get(f"{V4}/room", HTTP_OCS_APIREQUEST="true", **basic("root", "guess"))
    client.get(EVENTS, **basic("root", "guess"))

    assert client.get(f"{V4}/room", HTTP_OCS_APIREQUEST="true", **basic("root", "right-password")).status_code == 429


# --- the admin login ---------------------------------------------------------------------------


def admin_login(client: Client, password: str) -> Any:
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": password, "next": "/admin/"},
        REMOTE_ADDR=ADDRESS,
    )


def test_the_admin_login_refuses_even_the_right_password_after_the_limit(protection: Any, admin_user: User) -> None:
    client = Client()

    failed = [admin_login(client, "guess").status_code for _ in range(3)]
    refused = admin_login(client, "right-password")

    assert failed == [200, 200, 200]  # the form again, with "Please enter the correct username..."
    assert refused.status_code == 200
    assert "Too many failed login attempts from your address" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_works_below_the_limit_and_from_other_addresses(protection: Any, admin_user: User) -> None:
    for _ in range(3):
        admin_login(Client(), "guess")

    other = Client().post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": "right-password", "next": "/admin/"},
        REMOTE_ADDR="10.0.0.2",
    )

    assert other.status_code == 302
    assert FailureWindow.objects.get(pk=ADDRESS).failures == 3


def test_failed_admin_logins_and_failed_basic_auth_share_one_counter(protection: Any, admin_user: User) -> None:
    client = Client()
    admin_login(client, "guess")
    client.get(EVENTS, **basic("root", "guess"))
    admin_login(client, "guess")

    assert client.get(EVENTS, **basic("root", "right-password")).status_code == 429


# --- counters shared by every worker -------------------------------------------------------------


def test_without_redis_the_counters_live_in_the_database(protection: Any, client_for: Any, outsider: User) -> None:
    client = client_for(outsider)
    for i in range(3):
        client.get(f"{V4}/room/unknown{i}", REMOTE_ADDR=ADDRESS)
    caches["default"].clear()  # nothing of the guard lives in the per-process cache

    assert client.get(f"{V4}/room/unknownx", REMOTE_ADDR=ADDRESS).status_code == 429
    assert FailureWindow.objects.get(pk=ADDRESS).failures == 3

    FailureWindow.objects.all().delete()  # what another worker would see: the rows, nothing else

    assert client.get(f"{V4}/room/unknownx", REMOTE_ADDR=ADDRESS).status_code == 404


def test_a_new_window_starts_after_the_old_one_ended(protection: Any, db: None) -> None:
    FailureWindow.objects.create(address=ADDRESS, started_at=1.0, failures=99)  # ended long ago

    assert guard.retry_after(ADDRESS) is None
    guard._record(ADDRESS)

    assert FailureWindow.objects.get(pk=ADDRESS).failures == 1
    assert FailureWindow.objects.count() == 1


def test_ended_windows_of_other_addresses_are_purged(protection: Any, db: None) -> None:
    FailureWindow.objects.create(address="10.9.9.9", started_at=1.0, failures=5)

    guard._record(ADDRESS)

    assert list(FailureWindow.objects.values_list("address", flat=True)) == [ADDRESS]


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_in_several_workers_are_all_counted(protection: Any) -> None:
    barrier = threading.Barrier(8)

    def fail() -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            for _ in range(5):
                guard._record(ADDRESS)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert FailureWindow.objects.get(pk=ADDRESS).failures == 40


def test_with_redis_the_counters_live_in_redis_and_a_refusal_costs_no_query(
    protection: Any, redis_counters: Any, client_for: Any, outsider: User, django_assert_num_queries: Any
) -> None:
    client = client_for(outsider)
    # force_authenticate: 1. the attendee lookup of the unknown token; counting is Redis only
    with django_assert_num_queries(1):
        assert client.get(f"{V4}/room/unknown0", REMOTE_ADDR=ADDRESS).status_code == 404
    for i in range(2):
        client.get(f"{V4}/room/unknown{i}", REMOTE_ADDR=ADDRESS)

    with django_assert_num_queries(0):
        assert client.get(f"{V4}/room/unknownx", REMOTE_ADDR=ADDRESS).status_code == 429
    assert not FailureWindow.objects.exists()


# --- the client address behind proxies -----------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "127.0.0.1"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "forged, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (3, "203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "", "127.0.0.1"),
    ],
)
def test_the_client_address_is_the_entry_as_many_from_the_right_as_there_are_trusted_proxies(
    settings: Any, rf: Any, proxies: int, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert guard.client_address(request) == expected


# --- issue 10: only what probes a secret counts --------------------------------------------------


def test_unknown_ocs_routes_do_not_lock_a_client_out_while_unknown_tokens_do(
    settings: Any, client_for: Any, student: User, room: Conversation
) -> None:
    settings.BRUTEFORCE_PROTECTION = True
    settings.BRUTEFORCE_MAX_ATTEMPTS = 10
    client = client_for(student)

    routes = [
        client.get(f"/ocs/v2.php/apps/spreed/api/v1/no-such-feature/{room.token}/{i}", REMOTE_ADDR=ADDRESS).status_code
        for i in range(100)
    ]
    # Missing message ids in a room the caller is in probe no secret either (issue 10).
    messages = [
        client.get(
            f"/ocs/v2.php/apps/spreed/api/v1/reaction/{room.token}/{900000 + i}", REMOTE_ADDR=ADDRESS
        ).status_code
        for i in range(100)
    ]
    still_in = client.get("/ocs/v2.php/cloud/capabilities", REMOTE_ADDR=ADDRESS).status_code
    tokens = [client.get(f"{V4}/room/unknown{i:04d}", REMOTE_ADDR=ADDRESS).status_code for i in range(20)]

    assert routes == [404] * 100
    assert messages == [404] * 100
    assert still_in == 200
    assert tokens == [404] * 10 + [429] * 10
