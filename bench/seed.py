"""Creates the HTTP benchmark's data in the database of ``DATABASE_URL`` and prints it as JSON.

Run by ``bench/run.py`` in a subprocess (``DJANGO_SETTINGS_MODULE=bench.settings``):

- ``teacher`` owns "Demo class" with ``--students`` students (demo_seed: one password hash),
  configured in free selection (mode 3) with 20 breakout rooms and started: the subject of
  ``GET .../breakout-rooms`` and of the switch flood;
- ``reader`` is in 50 group conversations (``GET /v4/room``), the first of which has 150 chat
  messages (the chat page of 100 and ``GET /v4/room/{token}``);
- every user gets an app password (the credentials of every request of the benchmark).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()


def main() -> None:
    import argparse

    from django.core.management import call_command

    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=150)
    args = parser.parse_args()
    call_command("migrate", verbosity=0, interactive=False)

    from accounts.models import User
    from accounts.services import app_password_create, user_create
    from breakout.services.lifecycle import breakout_configure, breakout_start
    from conversations.models import Attendee, Conversation
    from conversations.services.chat import chat_message_post
    from conversations.services.demo import demo_seed
    from conversations.services.lifecycle import conversation_create

    seed = demo_seed(students=args.students, conversation_name="Demo class", password="bench-password-1")
    teacher = User.objects.get(username="teacher")
    parent = breakout_configure(actor=teacher, parent=seed.conversation, mode=3, amount=args.rooms, attendee_map={})
    breakout_start(actor=teacher, parent=parent)
    reader = user_create(username="reader", display_name="Reader", password="bench-password-2")
    rooms = [
        conversation_create(
            actor=reader, room_type=Conversation.Type.GROUP, name=f"Conversation {n}", invite="student1"
        )
        for n in range(args.conversations)
    ]
    chat_room = rooms[0]
    attendee = Attendee.objects.get(room=chat_room, user=reader)
    for n in range(args.messages):
        chat_message_post(attendee=attendee, message=f"Message {n}: some words of an ordinary chat line")
    students = list(User.objects.filter(username__startswith="student").order_by("id"))
    credentials = {
        user.username: app_password_create(user=user, name="bench")[1] for user in [teacher, reader, *students]
    }
    print(
        json.dumps(
            {
                "parent": parent.token,
                "breakout_rooms": list(
                    Conversation.objects.filter(parent=parent).order_by("id").values_list("token", flat=True)
                ),
                "room": chat_room.token,
                "credentials": credentials,
            }
        )
    )


if __name__ == "__main__":
    main()
