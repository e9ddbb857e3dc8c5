from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import AppConfigValue
from accounts.selectors import app_config_get
from accounts.services import app_config_key_require, app_config_set
from project.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Print an app config value (spreed namespace), or set it when VALUE is given; without KEY list every "
        "key with its value and the values allowed. Unknown keys and values are refused. "
        "Example: appconfig breakout_rooms no. Changes apply in every running worker at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", nargs="?", help=f"One of: {', '.join(sorted(AppConfigValue.ALLOWED))}")
        parser.add_argument("value", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        key, value = options["key"], options["value"]
        if key is None:
            for known, allowed in sorted(AppConfigValue.ALLOWED.items()):
                self.stdout.write(f"{known} = {app_config_get(known)} (allowed: {', '.join(allowed)})")
            return
        try:
            app_config_key_require(key)
            if value is not None:
                app_config_set(key=key, value=value)
        except ServiceError as exc:
            raise CommandError(exc.message or str(exc)) from None
        self.stdout.write(app_config_get(key))
