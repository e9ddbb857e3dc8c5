"""HTTP Basic (passwords and app passwords) and cookie sessions, the way Nextcloud accepts them.

Verifying a real password costs a slow hash on purpose. Basic auth sends it on every request,
so a verified password is remembered for ``CREDENTIAL_CACHE_SECONDS`` in a keyed cache: the
cache key is an HMAC of user id and password (the password itself is never stored) and the
entry holds an HMAC of the user's password hash, so it is honoured only while that hash is
unchanged: a password change takes effect at once.

App passwords are stored as a keyed hash: checking one costs no slow hash, and the user and
the app password are looked up in the same single query, a raw SQL statement built once per
process (the ORM rebuilt and recompiled the same annotated query on every request, most of
authentication's cost). They are never cached, so revoking one takes effect at once.
``AppPassword.last_used_at`` is written at most once per hour per app password, not on every
request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models.fields import DateTimeField
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import AppPassword, User
from accounts.services import app_password_touch
from project.errors import PreconditionFailed

CREDENTIAL_CACHE_PREFIX = "verified-credential:"


@dataclass(frozen=True)
class AppPasswordCredential:
    """``request.auth`` of a request authenticated by an app password."""

    app_password_id: int


def _keyed_digest(*parts: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), "\x00".join(parts).encode(), hashlib.sha256).hexdigest()


def _credential_cache_key(username: str, password: str) -> str:
    return CREDENTIAL_CACHE_PREFIX + _keyed_digest(username, password)


_LOOKUP_SQL: dict[str, str] = {}


def _lookup_sql() -> str:
    """The active user named ``%s`` with the id and last use of their app password whose keyed hash
    is ``%s`` (NULLs when there is none): one statement, built once per database vendor."""
    sql = _LOOKUP_SQL.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        users, app_passwords = quote(User._meta.db_table), quote(AppPassword._meta.db_table)
        columns = ", ".join(f"u.{quote(str(field.column))}" for field in User._meta.concrete_fields)
        sql = (
            f"SELECT {columns}, ap.{quote('id')}, ap.{quote('last_used_at')} FROM {users} u"
            f" LEFT JOIN {app_passwords} ap ON ap.{quote('user_id')} = u.{quote('id')}"
            f" AND ap.{quote('token_hash')} = %s"
            f" WHERE u.{quote('username')} = %s AND u.{quote('is_active')} = %s"
        )
        _LOOKUP_SQL[connection.vendor] = sql
    return sql


def _datetime(value: object) -> object:
    """A timestamp column as the ORM would convert it (SQLite hands back naive UTC, or text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def _user_lookup(username: str, token_hash: str) -> tuple[User, int | None, object] | None:
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(), [token_hash, username, True])
        row = cursor.fetchone()
    if row is None:
        return None
    fields = User._meta.concrete_fields
    values = list(row[: len(fields)])
    for index, model_field in enumerate(fields):
        if isinstance(model_field, DateTimeField):
            values[index] = _datetime(values[index])
        elif model_field.get_internal_type() == "BooleanField" and values[index] is not None:
            values[index] = bool(values[index])
    user = User.from_db(connection.alias, [field.attname for field in fields], values)
    return user, row[len(fields)], _datetime(row[len(fields) + 1])


def authenticate_credentials(username: str, password: str) -> tuple[User, AppPasswordCredential | None] | None:
    """The active user behind a user id and a password or app password (with the app password
    credential when one was used), or None."""
    if not username or not password or "\x00" in username:
        return None  # PostgreSQL cannot even compare a string with NUL in it
    found = _user_lookup(username, AppPassword.hash_token(password))
    if found is None:
        return None
    user, app_password_id, last_used_at = found
    if app_password_id is not None:
        app_password_touch(app_password_id=app_password_id, last_used_at=last_used_at)  # type: ignore[arg-type]
        return user, AppPasswordCredential(app_password_id=app_password_id)
    cache = caches["default"]
    cache_key = _credential_cache_key(username, password)
    password_fingerprint = _keyed_digest(str(user.pk), user.password)
    if settings.CREDENTIAL_CACHE_SECONDS and cache.get(cache_key) == password_fingerprint:
        return user, None
    if not user.check_password(password):
        return None
    if settings.CREDENTIAL_CACHE_SECONDS:
        # check_password may have upgraded the hash: fingerprint the stored one.
        cache.set(cache_key, _keyed_digest(str(user.pk), user.password), settings.CREDENTIAL_CACHE_SECONDS)
    return user, None


def verify_credentials(username: str, password: str) -> User | None:
    """The active user behind a user id and a password or app password, or None."""
    result = authenticate_credentials(username, password)
    return result[0] if result else None


class OCSBasicAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, AppPasswordCredential | None] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise exceptions.AuthenticationFailed() from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise exceptions.AuthenticationFailed()
        result = authenticate_credentials(username, password)
        if result is None:
            raise exceptions.AuthenticationFailed()
        return result

    def authenticate_header(self, request: Request) -> str | None:
        # No WWW-Authenticate: browsers must not pop up a login dialog for the web client.
        return None


class OCSSessionAuthentication(authentication.SessionAuthentication):
    """Django sessions. Instead of a CSRF token, cookie requests must carry
    ``OCS-APIRequest: true`` (a custom header a cross-site form cannot send), as in Nextcloud."""

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        user = getattr(request._request, "user", None)
        if not user or not user.is_active:
            return None
        if request.META.get("HTTP_OCS_APIREQUEST", "").lower() != "true":
            raise PreconditionFailed(message="CSRF check failed")
        return user, None


def authenticated_user(request: HttpRequest) -> User:
    """The caller of a view that requires a login (DRF's IsAuthenticated, or the admin's staff
    check, ran before the handler): never anonymous there."""
    user = request.user
    assert isinstance(user, User)
    return user
