"""``manage.py cleanup``: remove orphan breakout rooms and stale app passwords."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import app_passwords_prune
from breakout.services.maintenance import breakout_orphans_remove
from project.errors import ServiceError


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of days, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more days, got {number}")
    return number


class Command(BaseCommand):
    help = (
        "Remove orphan breakout rooms and app passwords unused for longer than --max-age days, and "
        "print what was removed. An orphan breakout room is one whose parent conversation is not "
        "configured for breakout rooms (breakoutRoomMode 0). A breakout room whose parent is gone "
        "cannot exist in this schema (deleting a parent deletes its breakout rooms), so there is "
        "nothing to find for that case. An app password counts as unused since its last use, or "
        "since its creation when it was never used. Safe to run repeatedly (cron)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only print what would be removed; change nothing.")
        parser.add_argument(
            "--max-age",
            type=_non_negative_int,
            default=90,
            metavar="DAYS",
            help="Remove app passwords unused for longer than DAYS days (default: 90).",
        )

    def handle(self, *args: Any, dry_run: bool, max_age: int, **options: Any) -> None:
        try:
            rooms = breakout_orphans_remove(dry_run=dry_run)
            passwords = app_passwords_prune(max_age_days=max_age, dry_run=dry_run)
        except ServiceError as error:
            raise CommandError(f"cleanup failed: {error.message or error.key}") from error
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(f"{verb} {len(rooms)} orphan breakout room(s).")
        for room in rooms:
            self.stdout.write(f"  room {room.token} {room.name!r} (parent {room.parent_token} is not configured)")
        self.stdout.write(f"{verb} {len(passwords)} app password(s) unused for more than {max_age} day(s).")
        for password in passwords:
            last_seen = password.last_used_at or password.created_at
            used = "last used" if password.last_used_at else "never used, created"
            name = password.name or "app password"
            self.stdout.write(
                f"  #{password.pk} {password.user.username} / {name} ({used} {last_seen:%Y-%m-%d %H:%M} UTC)"
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
