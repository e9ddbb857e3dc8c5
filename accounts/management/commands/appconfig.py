from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.selectors import app_config_get
from accounts.services import app_config_set
from project.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Print an app config value (spreed namespace), or set it when VALUE is given. "
        "Example: appconfig breakout_rooms no. Changes apply in every running worker at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key")
        parser.add_argument("value", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        key, value = options["key"], options["value"]
        if value is not None:
            try:
                app_config_set(key=key, value=value)
            except ServiceError as exc:
                raise CommandError(exc.message or str(exc)) from None
        self.stdout.write(app_config_get(key))
