"""Basic auth with passwords and app passwords, the credential cache, sessions and getapppassword."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password as real_check_password
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AppPassword, User
from accounts.services import app_password_create
from tests.factories import UserFactory

CAPABILITIES = "/ocs/v2.php/cloud/capabilities"
CLOUD_USER = "/ocs/v2.php/cloud/user"
GET_APP_PASSWORD = "/ocs/v2.php/core/getapppassword"


def basic_client(username: str, password: str) -> Client:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {token}", HTTP_OCS_APIREQUEST="true")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def alice(db: None) -> User:
    return UserFactory(username="alice", display_name="Alice A.", password="s3cret")


@pytest.fixture
def hasher_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts calls of the slow password check (Django's check_password, used by User.check_password)."""
    calls: list[str] = []

    def counting(password: str, encoded: str, setter: Any = None, preferred: str = "default") -> bool:
        calls.append(password)
        return real_check_password(password, encoded, setter, preferred)

    monkeypatch.setattr("django.contrib.auth.base_user.check_password", counting)
    return calls


def test_basic_auth_with_the_password_identifies_the_user(alice: User) -> None:
    response = basic_client("alice", "s3cret").get(CLOUD_USER)

    assert response.status_code == 200
    data = response.json()["ocs"]["data"]
    assert data["id"] == "alice"
    assert data["display-name"] == "Alice A."


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(b"alice:wrong").decode(),
        "Basic " + base64.b64encode(b"nobody:s3cret").decode(),
        "Basic " + base64.b64encode(b"alice").decode(),
        "Basic " + base64.b64encode(b"alice:").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic " + base64.b64encode(b"ali\x00ce:s3cret").decode(),
        "Basic " + base64.b64encode(b"alice:s3\x00cret").decode(),
        "Basic not-base64!!",
        "Basic ",
    ],
)
def test_bad_basic_credentials_are_401_with_statuscode_997(alice: User, header: str) -> None:
    response = Client(HTTP_AUTHORIZATION=header, HTTP_OCS_APIREQUEST="true").get(CLOUD_USER)

    assert response.status_code == 401
    assert response.json()["ocs"]["meta"] == {
        "status": "failure",
        "statuscode": 997,
        "message": "Current user is not logged in",
    }


def test_an_inactive_user_cannot_log_in(alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)

    assert basic_client("alice", "s3cret").get(CLOUD_USER).status_code == 401


def test_a_second_request_does_not_pay_the_slow_hash_again(alice: User, hasher_calls: list[str]) -> None:
    client = basic_client("alice", "s3cret")

    assert client.get(CLOUD_USER).status_code == 200
    assert client.get(CLOUD_USER).status_code == 200
    assert client.get(CLOUD_USER).status_code == 200

    assert hasher_calls == ["s3cret"]


def test_a_cached_password_login_costs_one_query(alice: User, django_assert_num_queries: Any) -> None:
    client = basic_client("alice", "s3cret")
    client.get(CLOUD_USER)

    # 1. the user, joined with a matching app password (none); 2. the groups (cloud/user payload)
    with django_assert_num_queries(2):
        assert client.get(CLOUD_USER).status_code == 200


def test_a_wrong_password_is_not_cached_as_verified(alice: User, hasher_calls: list[str]) -> None:
    assert basic_client("alice", "wrong").get(CLOUD_USER).status_code == 401
    assert basic_client("alice", "wrong").get(CLOUD_USER).status_code == 401

    assert hasher_calls == ["wrong", "wrong"]


def test_a_password_change_invalidates_the_cached_credential_at_once(alice: User, hasher_calls: list[str]) -> None:
    old = basic_client("alice", "s3cret")
    assert old.get(CLOUD_USER).status_code == 200

    alice.set_password("n3w")
    alice.save()

    assert old.get(CLOUD_USER).status_code == 401
    assert basic_client("alice", "n3w").get(CLOUD_USER).status_code == 200


def test_the_cache_holds_no_password_or_password_hash(alice: User) -> None:
    assert basic_client("alice", "s3cret").get(CLOUD_USER).status_code == 200

    stored = " ".join(repr(value) for value in cache._cache.values())  # LocMem internals: pickled values
    assert "s3cret" not in stored
    assert alice.password not in stored


def test_with_the_cache_disabled_every_request_checks_the_password(
    alice: User, hasher_calls: list[str], settings: Any
) -> None:
    settings.CREDENTIAL_CACHE_SECONDS = 0
    client = basic_client("alice", "s3cret")

    client.get(CLOUD_USER)
    client.get(CLOUD_USER)

    assert hasher_calls == ["s3cret", "s3cret"]


def test_an_app_password_authenticates_without_the_slow_hash(alice: User, hasher_calls: list[str]) -> None:
    _, token = app_password_create(user=alice)

    response = basic_client("alice", token).get(CLOUD_USER)

    assert response.status_code == 200
    assert response.json()["ocs"]["data"]["id"] == "alice"
    assert hasher_calls == []


def test_an_app_password_costs_one_query(alice: User, django_assert_num_queries: Any, settings: Any) -> None:
    row, token = app_password_create(user=alice)
    AppPassword.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    client = basic_client("alice", token)

    # 1. the user joined with the matching app password; 2. the user's groups (cloud/user payload)
    with django_assert_num_queries(2):
        assert client.get(CLOUD_USER).status_code == 200


def test_an_app_password_of_another_user_is_refused(alice: User) -> None:
    bob = UserFactory(username="bob")
    _, token = app_password_create(user=bob)

    assert basic_client("alice", token).get(CLOUD_USER).status_code == 401


def test_a_revoked_app_password_stops_working_at_once(alice: User) -> None:
    row, token = app_password_create(user=alice)
    client = basic_client("alice", token)
    assert client.get(CLOUD_USER).status_code == 200

    row.delete()

    assert client.get(CLOUD_USER).status_code == 401


def test_app_password_last_used_is_written_at_most_once_an_hour(alice: User) -> None:
    row, token = app_password_create(user=alice)
    client = basic_client("alice", token)

    client.get(CLOUD_USER)
    row.refresh_from_db()
    first_use = row.last_used_at
    assert first_use is not None
    client.get(CLOUD_USER)
    row.refresh_from_db()
    assert row.last_used_at == first_use

    AppPassword.objects.filter(pk=row.pk).update(last_used_at=timezone.now() - timedelta(hours=2))
    client.get(CLOUD_USER)
    row.refresh_from_db()
    assert row.last_used_at > first_use


def test_a_recently_used_app_password_is_not_written_again(alice: User, django_assert_num_queries: Any) -> None:
    row, token = app_password_create(user=alice)
    AppPassword.objects.filter(pk=row.pk).update(last_used_at=timezone.now() - timedelta(minutes=59))
    client = basic_client("alice", token)

    # 1. the user with the app password; 2. the groups for the payload; no UPDATE
    with django_assert_num_queries(2):
        client.get(CLOUD_USER)


def test_getapppassword_issues_a_working_app_password_to_a_password_login(alice: User) -> None:
    response = basic_client("alice", "s3cret").get(GET_APP_PASSWORD, HTTP_USER_AGENT="Talk client")

    assert response.status_code == 200
    token = response.json()["ocs"]["data"]["apppassword"]
    assert len(token) == 72
    row = AppPassword.objects.get(user=alice)
    assert row.token_hash == AppPassword.hash_token(token)
    assert row.name == "Talk client"
    assert basic_client("alice", token).get(CLOUD_USER).status_code == 200


def test_getapppassword_is_403_for_a_request_authenticated_by_an_app_password(alice: User) -> None:
    _, token = app_password_create(user=alice)

    response = basic_client("alice", token).get(GET_APP_PASSWORD)

    assert response.status_code == 403
    assert response.json() == {"ocs": {"meta": {"status": "failure", "statuscode": 403, "message": ""}, "data": []}}
    assert AppPassword.objects.filter(user=alice).count() == 1


def test_getapppassword_needs_a_login(db: None) -> None:
    response = Client(HTTP_OCS_APIREQUEST="true").get(GET_APP_PASSWORD)

    assert response.status_code == 401
    assert AppPassword.objects.count() == 0


def test_a_cookie_session_with_the_ocs_header_is_accepted(alice: User) -> None:
    client = Client()
    client.force_login(alice)

    response = client.get(CLOUD_USER, HTTP_OCS_APIREQUEST="true")

    assert response.status_code == 200
    assert response.json()["ocs"]["data"]["id"] == "alice"


@pytest.mark.parametrize("header", [None, "false", "1"])
def test_a_cookie_session_without_the_ocs_header_is_412(alice: User, header: str | None) -> None:
    client = Client()
    client.force_login(alice)
    extra = {} if header is None else {"HTTP_OCS_APIREQUEST": header}

    response = client.get(CLOUD_USER, **extra)

    assert response.status_code == 412
    assert response.json() == {
        "ocs": {"meta": {"status": "failure", "statuscode": 412, "message": "CSRF check failed"}, "data": []}
    }


def test_basic_auth_needs_no_ocs_header(alice: User) -> None:
    token = base64.b64encode(b"alice:s3cret").decode()

    response = Client(HTTP_AUTHORIZATION=f"Basic {token}").get(CLOUD_USER)

    assert response.status_code == 200


def test_capabilities_are_public(anonymous_client: APIClient, db: None) -> None:
    response = anonymous_client.get(CAPABILITIES)

    assert response.status_code == 200
    assert response.json()["ocs"]["data"]["capabilities"]["spreed"]["config"]["conversations"]["can-create"] is False


def test_the_raw_lookup_loads_the_user_as_the_orm_does(alice: User) -> None:
    """The one-statement lookup (raw SQL, built once) yields the same user the ORM loads: every
    field, aware timestamps, real booleans, and the app password's last use."""
    from accounts.authentication import authenticate_credentials

    row, token = app_password_create(user=alice)
    used = timezone.now() - timedelta(minutes=5)
    AppPassword.objects.filter(pk=row.pk).update(last_used_at=used)
    alice.last_login = timezone.now()
    alice.save(update_fields=["last_login"])
    result = authenticate_credentials("alice", token)
    assert result is not None
    user, credential = result
    assert credential is not None and credential.app_password_id == row.pk
    fresh = User.objects.get(pk=alice.pk)
    for field in User._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(fresh, field.attname), field.name
    assert user.is_active is True and user.last_login is not None and user.last_login.tzinfo is not None
    assert authenticate_credentials("alice", token + "x") is None  # neither app password nor password
