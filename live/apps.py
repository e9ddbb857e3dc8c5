from __future__ import annotations

from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = "Live updates (event outbox, waiters, background jobs)"
    default_auto_field = "django.db.models.BigAutoField"
