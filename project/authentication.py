"""HTTP Basic (passwords and app passwords) and cookie sessions, the way Nextcloud accepts them.

Verifying a real password costs a slow hash on purpose. Basic auth sends it on every request,
so a verified credential is remembered for a short while in a keyed, per-process cache: the
cache key is an HMAC of the credential (the password itself is never stored) and the entry is
only honoured while the user's password hash is unchanged, so a password change takes effect
at once. App passwords are stored as a keyed hash and cost one indexed lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from conversations.models import AppPassword, User
from project.errors import PreconditionFailed

CREDENTIAL_CACHE_PREFIX = "verified-credential:"


def _credential_cache_key(username: str, password: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{username}\x00{password}".encode(), hashlib.sha256).hexdigest()
    return CREDENTIAL_CACHE_PREFIX + digest


def verify_credentials(username: str, password: str) -> User | None:
    """The active user behind a user id and a password or app password, or None."""
    if not username or not password:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        return None
    cache = caches["default"]
    cache_key = _credential_cache_key(username, password)
    if settings.CREDENTIAL_CACHE_SECONDS and cache.get(cache_key) == (user.pk, user.password):
        return user
    token_hash = AppPassword.hash_token(password)
    if AppPassword.objects.filter(user=user, token_hash=token_hash).exists():
        verified = True
    else:
        verified = user.check_password(password)
    if not verified:
        return None
    if settings.CREDENTIAL_CACHE_SECONDS:
        cache.set(cache_key, (user.pk, user.password), settings.CREDENTIAL_CACHE_SECONDS)
    return user


class OCSBasicAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, None] | None:
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
        user = verify_credentials(username, password)
        if user is None:
            raise exceptions.AuthenticationFailed()
        return user, None

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
