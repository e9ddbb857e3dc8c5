from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import user_create
from project.errors import ServiceError

PASSWORD_ENV = "USER_PASSWORD"


class Command(BaseCommand):
    help = f"Create a user. The password comes from ${PASSWORD_ENV} with --password-from-env, else it is prompted for."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("uid", help="The user id (Talk's actorId)")
        parser.add_argument("--display-name", default="", help="The display name (default: the user id)")
        parser.add_argument("--password-from-env", action="store_true", help=f"Read the password from ${PASSWORD_ENV}")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["password_from_env"]:
            password = os.environ.get(PASSWORD_ENV, "")
            if not password:
                raise CommandError(f"--password-from-env given but ${PASSWORD_ENV} is empty or not set")
        else:
            password = getpass.getpass("Password: ")
            if not password:
                raise CommandError("The password must not be empty")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("The passwords do not match")
        uid = options["uid"].strip()
        try:  # Django's AUTH_PASSWORD_VALIDATORS, as the admin's password forms use them
            validate_password(password, User(username=uid, display_name=options["display_name"].strip() or uid))
        except ValidationError as error:
            raise CommandError("The password is refused: " + " ".join(error.messages)) from None
        try:
            user = user_create(username=options["uid"], display_name=options["display_name"], password=password)
        except ServiceError as exc:
            raise CommandError(exc.message or str(exc)) from None
        self.stdout.write(f'The user "{user.username}" ("{user.get_display_name()}") was created')
