from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import random_secret
from conversations.services.demo import DEMO_TEACHER, demo_seed
from project.errors import ServiceError

PASSWORD_ENV = "DEMO_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create the demo data (idempotent): user 'teacher', students student1..studentN and a group "
        f"conversation owned by the teacher with the students in it. Every demo user gets the password "
        f"${PASSWORD_ENV} (else a generated one, printed). The conversation token is the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=30, help="Number of students (default 30)")
        parser.add_argument("--conversation", default="Demo class", help='Conversation name (default "Demo class")')

    def handle(self, *args: Any, **options: Any) -> None:
        if options["students"] < 0:
            raise CommandError("--students must not be negative")
        password = os.environ.get(PASSWORD_ENV, "")
        generated = not password
        if generated:
            password = random_secret(16)
        try:
            seed = demo_seed(students=options["students"], conversation_name=options["conversation"], password=password)
        except ServiceError as exc:
            raise CommandError(exc.message or str(exc)) from None
        n = options["students"]
        students = f"student1..student{n}" if n else "no students"
        self.stdout.write(f"Users: {DEMO_TEACHER} and {students} ({seed.users_created} created now)")
        source = "generated" if generated else f"from ${PASSWORD_ENV}"
        self.stdout.write(f"Password of every demo user ({source}): {password}")
        added = seed.attendees_added
        self.stdout.write(f'Conversation "{seed.conversation.name}" ({added} attendees added now); token:')
        self.stdout.write(seed.conversation.token)
