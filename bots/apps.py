from __future__ import annotations

from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    verbose_name = "Bots (Talk's webhook bots)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from bots.tasks import bots_deliver_job
        from live.jobs import Periodic, periodic_register

        periodic_register(Periodic(bots_deliver_job, lambda: settings.BOTS_DELIVERY_INTERVAL_SECONDS))
