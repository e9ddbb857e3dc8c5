"""Repeated 404s from one client address are refused with 429 (contract decision 13)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Conversation
from tests.conftest import V4


@pytest.fixture
def protection(settings: Any) -> Any:
    cache.clear()
    settings.BRUTEFORCE_PROTECTION = True
    settings.BRUTEFORCE_MAX_ATTEMPTS = 3
    settings.BRUTEFORCE_WINDOW_SECONDS = 60
    yield settings
    cache.clear()


def probe(client: APIClient, n: int, address: str = "10.0.0.1") -> list[int]:
    return [client.get(f"{V4}/room/unknown{i:04d}", REMOTE_ADDR=address).status_code for i in range(n)]


def test_the_404_after_the_limit_is_refused_with_429_and_retry_after(
    protection: Any, client_for: Any, outsider: User
) -> None:
    client = client_for(outsider)

    assert probe(client, 3) == [404, 404, 404]
    response = client.get(f"{V4}/room/unknown9999", REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 429
    assert response.json() == {
        "ocs": {"meta": {"status": "failure", "statuscode": 429, "message": "Too many requests"}, "data": []}
    }
    assert 1 <= int(response["Retry-After"]) <= 61


def test_a_blocked_client_is_refused_on_every_ocs_route(
    protection: Any, client_for: Any, outsider: User, room: Conversation, owner: User
) -> None:
    probe(client_for(outsider), 3)

    response = client_for(owner).get(f"{V4}/room", REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 429


def test_other_client_addresses_are_not_affected(
    protection: Any, client_for: Any, owner: User, room: Conversation
) -> None:
    probe(client_for(owner), 5, address="10.0.0.1")

    assert client_for(owner).get(f"{V4}/room", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_successful_requests_do_not_count(protection: Any, client_for: Any, owner: User, room: Conversation) -> None:
    client = client_for(owner)

    statuses = [client.get(f"{V4}/room/{room.token}", REMOTE_ADDR="10.0.0.1").status_code for _ in range(10)]

    assert statuses == [200] * 10


def test_v1_404s_count_although_they_are_http_200(protection: Any, client_for: Any, outsider: User) -> None:
    client = client_for(outsider)

    statuses = [client.get(f"/ocs/v1.php/apps/spreed/api/v4/room/unknown{i}", REMOTE_ADDR="10.0.0.1") for i in range(4)]

    assert [r.json()["ocs"]["meta"]["statuscode"] for r in statuses] == [404, 404, 404, 429]


def test_tokens_outside_the_route_pattern_count_as_404s(protection: Any, client_for: Any, outsider: User) -> None:
    client = client_for(outsider)

    statuses = [client.get(f"{V4}/room/ZZ{i}", REMOTE_ADDR="10.0.0.1").status_code for i in range(4)]

    assert statuses == [404, 404, 404, 429]


def test_the_block_ends_with_the_window(protection: Any, client_for: Any, outsider: User) -> None:
    protection.BRUTEFORCE_WINDOW_SECONDS = 1
    client = client_for(outsider)
    probe(client, 3)
    assert probe(client, 1) == [429]

    time.sleep(1.2)

    assert probe(client, 1) == [404]


def test_the_protection_can_be_turned_off(protection: Any, client_for: Any, outsider: User) -> None:
    protection.BRUTEFORCE_PROTECTION = False

    assert probe(client_for(outsider), 6) == [404] * 6


def test_behind_a_proxy_the_forwarded_address_is_counted(protection: Any, client_for: Any, outsider: User) -> None:
    protection.TRUSTED_PROXIES = 1
    client = client_for(outsider)

    for i in range(3):
        client.get(f"{V4}/room/unknown{i}", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="spoof, 203.0.113.7")
    blocked = client.get(f"{V4}/room/unknownx", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    other = client.get(f"{V4}/room/unknowny", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert blocked.status_code == 429
    assert other.status_code == 404


def test_the_guard_adds_no_sql_queries(
    protection: Any, client_for: Any, outsider: User, django_assert_num_queries: Any
) -> None:
    client = client_for(outsider)
    # Without Redis the counters live in the database. force_authenticate: 1. the guard's
    # counter, 2. the attendee lookup of the unknown token, 3. the counting upsert, 4. the purge
    # of ended windows (only when a window starts)
    with django_assert_num_queries(4):
        assert probe(client, 1) == [404]
    # 1. the counter, 2. the attendee lookup, 3. the upsert
    with django_assert_num_queries(3):
        assert probe(client, 1) == [404]
    probe(client, 1)

    # 1. the counter: a refused request costs one primary-key SELECT and nothing else
    with django_assert_num_queries(1):
        assert probe(client, 1) == [429]
    protection.BRUTEFORCE_PROTECTION = False
    # force_authenticate: 1. the attendee lookup of the unknown token, nothing else
    with django_assert_num_queries(1):
        assert probe(client, 1) == [404]


def test_failed_logins_count_like_404s(protection: Any, owner: User) -> None:
    import base64

    from django.test import Client

    wrong = "Basic " + base64.b64encode(b"owner:wrong").decode()
    client = Client(HTTP_AUTHORIZATION=wrong, HTTP_OCS_APIREQUEST="true", REMOTE_ADDR="10.0.0.1")

    statuses = [client.get(f"{V4}/room").status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]


def test_anonymous_401s_without_credentials_do_not_count(
    protection: Any, anonymous_client: APIClient, db: None
) -> None:
    statuses = [anonymous_client.get(f"{V4}/room", REMOTE_ADDR="10.0.0.1").status_code for _ in range(5)]

    assert statuses == [401] * 5
