from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import app_password_create


class Command(BaseCommand):
    help = "Issue an app password for a user and print it. It is shown only this once (only a hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("uid")
        parser.add_argument("--name", default="apppassword command", help="A label shown to operators")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["uid"]).first()
        if user is None:
            raise CommandError(f"Unknown user id {options['uid']!r}")
        _, token = app_password_create(user=user, name=options["name"])
        self.stdout.write(token)
