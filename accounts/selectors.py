"""Reads of accounts that carry domain meaning: app config values and stale app passwords."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import AppConfigValue, AppPassword
from project.errors import BadRequest


def app_config_get(key: str) -> str:
    """The current value of an app config key (read from the database on every call so that a
    change by one worker applies in every worker at once)."""
    row = AppConfigValue.objects.filter(key=key).values_list("value", flat=True).first()
    if row is None:
        return AppConfigValue.DEFAULTS.get(key, "")
    return row


def breakout_rooms_enabled() -> bool:
    return app_config_get("breakout_rooms") == "yes"


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
