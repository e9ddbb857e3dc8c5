"""Writes of accounts: users, groups, app passwords and app config. Each public function is atomic."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AppConfigValue, AppPassword, User
from accounts.selectors import app_passwords_stale
from project.errors import BadRequest, NotFound

APP_PASSWORD_ALPHABET = string.ascii_letters + string.digits
APP_PASSWORD_LENGTH = 72  # as Nextcloud's app passwords
APP_PASSWORD_TOUCH_INTERVAL = timedelta(hours=1)
APP_CONFIG_KEY_MAX_LENGTH = 64


def random_secret(length: int) -> str:
    return "".join(secrets.choice(APP_PASSWORD_ALPHABET) for _ in range(length))


@transaction.atomic
def user_create(*, username: str, display_name: str, password: str) -> User:
    """Create a user. Keeps: user ids are unique and non-empty, and nobody gets an empty password."""
    username = username.strip()
    if not username or len(username) > 150:
        raise BadRequest("username", message="The user id must be 1 to 150 characters")
    if not password:
        raise BadRequest("password", message="The password must not be empty")
    if User.objects.filter(username=username).exists():
        raise BadRequest("username", message=f"A user with the id {username!r} already exists")
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username, display_name=display_name.strip() or username, password=password
            )
    except IntegrityError:  # created concurrently between the check and the insert
        raise BadRequest("username", message=f"A user with the id {username!r} already exists") from None


@transaction.atomic
def user_save(*, user: User) -> User:
    """Store a user as the admin's form built it (created or changed; the form has validated the
    user id and hashed the password). The one write path of users outside ``user_create``."""
    user.save()
    return user


@transaction.atomic
def group_create(*, name: str, member_usernames: Sequence[str] = ()) -> tuple[Group, list[User]]:
    """Create the group ``name`` if it does not exist and add the given users to it (users who
    are members already stay members). Keeps: all named users exist, or nothing changes.
    Returns the group and the users that were newly added."""
    name = name.strip()
    if not name or len(name) > 150:
        raise BadRequest("group", message="The group id must be 1 to 150 characters")
    wanted = list(dict.fromkeys(member_usernames))
    users = list(User.objects.filter(username__in=wanted).order_by("id"))
    missing = sorted(set(wanted) - {user.username for user in users})
    if missing:
        raise NotFound("user", message=f"Unknown user id(s): {', '.join(missing)}")
    group, _ = Group.objects.get_or_create(name=name)
    existing = set(User.objects.filter(groups=group, pk__in=[user.pk for user in users]).values_list("pk", flat=True))
    added = [user for user in users if user.pk not in existing]
    if added:
        membership = User.groups.through
        membership._default_manager.bulk_create([membership(user_id=user.pk, group_id=group.pk) for user in added])
    return group, added


def app_config_key_require(key: str) -> None:
    """400 ``key`` for a key the service does not know, naming the known ones."""
    if key not in AppConfigValue.ALLOWED:
        known = ", ".join(sorted(AppConfigValue.ALLOWED))
        raise BadRequest("key", message=f"Unknown app config key {key!r}; known keys: {known}")


@transaction.atomic
def app_config_set(*, key: str, value: str) -> AppConfigValue:
    """Set an app config value. It is read from the database on every use, so the change
    applies in every worker at once."""
    if not key or len(key) > APP_CONFIG_KEY_MAX_LENGTH:
        raise BadRequest("key", message=f"The key must be 1 to {APP_CONFIG_KEY_MAX_LENGTH} characters")
    app_config_key_require(key)
    allowed = AppConfigValue.ALLOWED[key]
    if value not in allowed:
        raise BadRequest("value", message=f"{value!r} is not a value of {key}; allowed: {', '.join(allowed)}")
    row, _ = AppConfigValue.objects.update_or_create(key=key, defaults={"value": value})
    return row


@transaction.atomic
def app_password_create(*, user: User, name: str = "") -> tuple[AppPassword, str]:
    """Issue an app password for ``user``. Returns the row and the token; the token itself is
    never stored (only its keyed hash), so this is the only time it can be shown."""
    token = random_secret(APP_PASSWORD_LENGTH)
    row = AppPassword.objects.create(user=user, name=name[:255], token_hash=AppPassword.hash_token(token))
    return row, token


def app_password_touch(*, app_password_id: int, last_used_at: datetime | None, now: datetime | None = None) -> None:
    """Record that an app password was used, at most once per ``APP_PASSWORD_TOUCH_INTERVAL``
    (not a write per request). The conditional UPDATE keeps concurrent workers from writing
    the same row twice; a single statement is atomic by itself."""
    now = now or timezone.now()
    threshold = now - APP_PASSWORD_TOUCH_INTERVAL
    if last_used_at is not None and last_used_at > threshold:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold)
    AppPassword.objects.filter(stale, pk=app_password_id).update(last_used_at=now)


@transaction.atomic
def app_passwords_revoke(*, app_password_ids: Iterable[int]) -> int:
    """Revoke (delete) the given app passwords in one DELETE; returns how many were deleted.

    A revoked app password stops authenticating with the very next request: app passwords are
    looked up on every request and never cached (``accounts/authentication.py``).
    """
    ids = list(app_password_ids)
    if not ids:
        return 0
    deleted, _ = AppPassword.objects.filter(pk__in=ids).delete()
    return deleted


@transaction.atomic
def app_passwords_prune(*, max_age_days: int, dry_run: bool, now: datetime | None = None) -> list[AppPassword]:
    """Delete the app passwords unused for longer than ``max_age_days`` (see
    ``app_passwords_stale``) and return them; with ``dry_run`` only return them.

    The stale rows are locked while they are read, so a login that is just now touching
    ``last_used_at`` of one of them waits for the delete instead of racing it. Two queries
    whatever the number of passwords.
    """
    stale = app_passwords_stale(max_age_days=max_age_days, now=now)
    if dry_run:
        return list(stale)
    found = list(stale.select_for_update(of=("self",)))
    if found:
        AppPassword.objects.filter(pk__in=[password.pk for password in found]).delete()
    return found


@transaction.atomic
def app_config_reset(*, keys: Iterable[str]) -> int:
    """Delete the given app config values (each key then reads as its default) in one DELETE;
    returns how many rows were deleted."""
    wanted = list(keys)
    if not wanted:
        return 0
    deleted, _ = AppConfigValue.objects.filter(key__in=wanted).delete()
    return deleted
