from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import group_create
from project.errors import ServiceError


class Command(BaseCommand):
    help = "Create a group (Talk's groups are Django auth groups) and add members to it. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("gid", help="The group id")
        parser.add_argument("--member", action="append", default=[], metavar="UID", help="Add this user (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            group, added = group_create(name=options["gid"], member_usernames=options["member"])
        except ServiceError as exc:
            raise CommandError(exc.message or str(exc)) from None
        names = ", ".join(user.username for user in added) or "nobody new"
        self.stdout.write(f'Group "{group.name}": added {names}')
