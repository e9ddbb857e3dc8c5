from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import random_secret
from conversations.services.demo import DEMO_OPERATOR, DEMO_STEPS, DEMO_TEACHER, demo_seed
from project.errors import ServiceError
from project.progress import Steps

PASSWORD_ENV = "DEMO_PASSWORD"


def write_secret_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), also when it existed before
    with wider permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


class Command(BaseCommand):
    help = (
        f"Create the demo data (idempotent): user '{DEMO_TEACHER}', students student1..studentN, a group "
        f"conversation owned by the teacher with the students in it, and the operator '{DEMO_OPERATOR}' (a "
        f"superuser for /admin/). Users created now get the password ${PASSWORD_ENV} (else a generated one, "
        "printed); existing users keep theirs unless --reset-passwords. The conversation token is the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=30, help="Number of students (default 30)")
        parser.add_argument("--conversation", default="Demo class", help='Conversation name (default "Demo class")')
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Also set the password of demo users that already exist (by default they keep theirs)",
        )
        parser.add_argument(
            "--output",
            type=Path,
            help="Write the report (it holds the password) to this file, mode 0600, instead of standard output",
        )
        parser.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Show the steps on standard error (default: only when it is a terminal)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["students"] < 0:
            raise CommandError("--students must not be negative")
        password = os.environ.get(PASSWORD_ENV, "")
        generated = not password
        if generated:
            password = random_secret(16)
        steps = Steps(self, total=len(DEMO_STEPS), enabled=options["progress"])
        try:
            seed = demo_seed(
                students=options["students"],
                conversation_name=options["conversation"],
                password=password,
                reset_passwords=options["reset_passwords"],
                progress=steps.step,
            )
        except ServiceError as exc:
            steps.close(done=False)
            raise CommandError(exc.message or str(exc)) from None
        steps.close()
        n = options["students"]
        students = f"student1..student{n}" if n else "no students"
        source = "generated" if generated else f"from ${PASSWORD_ENV}"
        lines = [f"Users: {DEMO_OPERATOR} (operator), {DEMO_TEACHER} and {students} ({seed.users_created} created now)"]
        if seed.users_kept:
            lines.append(f"Password of the {seed.users_created} user(s) created now ({source}): {password}")
            lines.append(
                f"{seed.users_kept} user(s) existed and kept their password (--reset-passwords sets it to this one)"
            )
        else:
            lines.append(f"Password of every demo user ({source}): {password}")
        lines.append(f"Operator login for /admin/: {DEMO_OPERATOR}")
        added = seed.attendees_added
        lines.append(f'Conversation "{seed.conversation.name}" ({added} attendees added now); token:')
        lines.append(seed.conversation.token)
        report = "\n".join(lines) + "\n"
        if options["output"] is not None:
            write_secret_file(options["output"], report)
        else:
            self.stdout.write(report, ending="")
