"""The demo data of ``make serve``: a teacher, students and their class conversation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import User
from conversations.models import Attendee, Conversation
from conversations.services.primitives import (
    Placement,
    SystemMessage,
    attendees_add_bulk,
    conversation_tree_lock,
    conversations_create_bulk,
    system_messages_post,
)
from live.services import events_batch
from project.errors import BadRequest

DEMO_TEACHER = "teacher"
DEMO_OPERATOR = "admin"
DEMO_STUDENT_PREFIX = "student"
DEMO_STEPS = ("creating the users", "finding or creating the conversation", "adding the attendees")


@dataclass(frozen=True)
class DemoSeed:
    conversation: Conversation
    password: str
    users_created: int
    attendees_added: int
    # Users that existed before this run and kept their password (no ``reset_passwords``).
    users_kept: int = 0


@transaction.atomic
@events_batch()
def demo_seed(
    *,
    students: int,
    conversation_name: str,
    password: str,
    reset_passwords: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoSeed:
    """Create (or complete) the demo data: ``teacher``, ``student1``..``studentN``, the group
    conversation ``conversation_name`` owned by the teacher with the students as attendees, and
    the operator ``admin`` (a superuser, in no conversation).

    Idempotent: a second run creates nothing new and reuses the conversation. Users created now
    get ``password`` (one hash for all of them, so 3,000 students cost one slow hash); users that
    already exist keep theirs (someone may have changed it on purpose) unless
    ``reset_passwords``. Writes are bulk: a fixed number of queries whatever the number of
    students. ``progress`` is called with the name of each of the three steps as it begins
    (``DEMO_STEPS``), for a command's progress output.
    """
    step = progress or (lambda name: None)
    if students < 0:
        raise BadRequest("students", message="The number of students must not be negative")
    if not password:
        raise BadRequest("password", message="The password must not be empty")
    name = conversation_name.strip()
    if not name or len(name) > 255:
        raise BadRequest("name", message="The conversation name must be 1 to 255 characters")

    step(DEMO_STEPS[0])
    wanted = {DEMO_TEACHER: "Teacher", DEMO_OPERATOR: "Operator"}
    wanted.update({f"{DEMO_STUDENT_PREFIX}{n}": f"Student {n}" for n in range(1, students + 1)})
    password_hash = make_password(password)
    existing = set(User.objects.filter(username__in=list(wanted)).values_list("username", flat=True))
    new_users = [
        User(
            username=username,
            display_name=display_name,
            password=password_hash,
            is_staff=username == DEMO_OPERATOR,
            is_superuser=username == DEMO_OPERATOR,
        )
        for username, display_name in wanted.items()
        if username not in existing
    ]
    User.objects.bulk_create(new_users)
    if reset_passwords and existing:
        User.objects.filter(username__in=list(existing)).update(password=password_hash)
    users = {user.username: user for user in User.objects.filter(username__in=list(wanted))}
    teacher = users[DEMO_TEACHER]
    step(DEMO_STEPS[1])

    room = (
        Conversation.objects.filter(
            name=name,
            type=Conversation.Type.GROUP,
            parent__isnull=True,
            attendees__user=teacher,
            attendees__participant_type=Attendee.ParticipantType.OWNER,
        )
        .order_by("id")
        .first()
    )
    placements: list[Placement] = []
    if room is None:
        (room,) = conversations_create_bulk(rooms=[Conversation(type=Conversation.Type.GROUP, name=name)])
        system_messages_post(
            actor=teacher, messages=[SystemMessage(room_id=room.pk, key="conversation_created")], rooms=[room]
        )
        present: set[int] = set()
        placements.append(Placement.of_user(teacher, room, Attendee.ParticipantType.OWNER))
    else:
        # Another run (or a teacher's request) may be changing the same conversation.
        room = conversation_tree_lock(parent_id=room.pk)
        present = set(
            Attendee.objects.filter(room=room, actor_type=Attendee.ACTOR_USERS).values_list("user_id", flat=True)
        )
    step(DEMO_STEPS[2])
    placements += [
        Placement.of_user(user, room, Attendee.ParticipantType.USER)
        for username, user in sorted(users.items(), key=lambda item: item[1].pk)
        if username not in (DEMO_TEACHER, DEMO_OPERATOR) and user.pk not in present
    ]
    attendees_add_bulk(actor=teacher, placements=placements)
    return DemoSeed(
        conversation=room,
        password=password,
        users_created=len(new_users),
        attendees_added=len(placements),
        users_kept=0 if reset_passwords else len(existing),
    )
