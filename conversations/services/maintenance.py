"""Operator maintenance of accounts: revoking and pruning app passwords."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from conversations.models import AppPassword
from project.errors import BadRequest


@transaction.atomic
def app_passwords_revoke(*, app_password_ids: Iterable[int]) -> int:
    """Revoke (delete) the given app passwords in one DELETE; returns how many were deleted.

    A revoked app password stops authenticating with the very next request: app passwords are
    looked up on every request and never cached (``project/authentication.py``).
    """
    ids = list(app_password_ids)
    if not ids:
        return 0
    deleted, _ = AppPassword.objects.filter(pk__in=ids).delete()
    return deleted


def app_passwords_stale(*, max_age_days: int, now: datetime | None = None) -> QuerySet[AppPassword]:
    """App passwords not used for more than ``max_age_days`` days: last use, or creation when
    never used, lies before the cut-off. Ascending id order, users loaded."""
    if max_age_days < 0:
        raise BadRequest("maxAge", message="--max-age must be zero or a positive number of days")
    cutoff = (now or timezone.now()) - timedelta(days=max_age_days)
    return (
        AppPassword.objects.select_related("user")
        .annotate(last_seen=Coalesce("last_used_at", "created_at"))
        .filter(last_seen__lt=cutoff)
        .order_by("id")
    )


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
