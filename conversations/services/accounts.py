"""Users, groups, app passwords, app config and the demo data. Each public function is atomic."""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from conversations.models import AppConfigValue, AppPassword, Attendee, Conversation, User
from conversations.services.primitives import (
    Placement,
    SystemMessage,
    attendees_add_bulk,
    conversation_tree_lock,
    conversations_create_bulk,
    system_messages_post,
)
from project.errors import BadRequest, NotFound

APP_PASSWORD_ALPHABET = string.ascii_letters + string.digits
APP_PASSWORD_LENGTH = 72  # as Nextcloud's app passwords
APP_PASSWORD_TOUCH_INTERVAL = timedelta(hours=1)
APP_CONFIG_KEY_MAX_LENGTH = 64
DEMO_TEACHER = "teacher"
DEMO_OPERATOR = "admin"
DEMO_STUDENT_PREFIX = "student"


def random_secret(length: int) -> str:
    return "".join(secrets.choice(APP_PASSWORD_ALPHABET) for _ in range(length))


@transaction.atomic
def user_create(*, username: str, display_name: str, password: str) -> User:
    """Create a user. Keeps: user ids are unique and non-empty, and nobody gets an empty password."""
    username = username.strip()
    if not username or len(username) > 150:
        raise BadRequest("username", message="The user id must be 1 to 150 characters")
    if not password:
        raise BadRequest("password", message="The password must not be empty")
    if User.objects.filter(username=username).exists():
        raise BadRequest("username", message=f"A user with the id {username!r} already exists")
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username, display_name=display_name.strip() or username, password=password
            )
    except IntegrityError:  # created concurrently between the check and the insert
        raise BadRequest("username", message=f"A user with the id {username!r} already exists") from None


@transaction.atomic
def group_create(*, name: str, member_usernames: Sequence[str] = ()) -> tuple[Group, list[User]]:
    """Create the group ``name`` if it does not exist and add the given users to it (users who
    are members already stay members). Keeps: all named users exist, or nothing changes.
    Returns the group and the users that were newly added."""
    name = name.strip()
    if not name or len(name) > 150:
        raise BadRequest("group", message="The group id must be 1 to 150 characters")
    wanted = list(dict.fromkeys(member_usernames))
    users = list(User.objects.filter(username__in=wanted).order_by("id"))
    missing = sorted(set(wanted) - {user.username for user in users})
    if missing:
        raise NotFound("user", message=f"Unknown user id(s): {', '.join(missing)}")
    group, _ = Group.objects.get_or_create(name=name)
    existing = set(group.user_set.filter(pk__in=[user.pk for user in users]).values_list("pk", flat=True))
    added = [user for user in users if user.pk not in existing]
    if added:
        group.user_set.add(*added)
    return group, added


@transaction.atomic
def app_config_set(*, key: str, value: str) -> AppConfigValue:
    """Set an app config value. It is read from the database on every use, so the change
    applies in every worker at once."""
    if not key or len(key) > APP_CONFIG_KEY_MAX_LENGTH:
        raise BadRequest("key", message=f"The key must be 1 to {APP_CONFIG_KEY_MAX_LENGTH} characters")
    row, _ = AppConfigValue.objects.update_or_create(key=key, defaults={"value": value})
    return row


@transaction.atomic
def app_password_create(*, user: User, name: str = "") -> tuple[AppPassword, str]:
    """Issue an app password for ``user``. Returns the row and the token; the token itself is
    never stored (only its keyed hash), so this is the only time it can be shown."""
    token = random_secret(APP_PASSWORD_LENGTH)
    row = AppPassword.objects.create(user=user, name=name[:255], token_hash=AppPassword.hash_token(token))
    return row, token


def app_password_touch(*, app_password_id: int, last_used_at: datetime | None, now: datetime | None = None) -> None:
    """Record that an app password was used, at most once per ``APP_PASSWORD_TOUCH_INTERVAL``
    (not a write per request). The conditional UPDATE keeps concurrent workers from writing
    the same row twice; a single statement is atomic by itself."""
    now = now or timezone.now()
    threshold = now - APP_PASSWORD_TOUCH_INTERVAL
    if last_used_at is not None and last_used_at > threshold:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold)
    AppPassword.objects.filter(stale, pk=app_password_id).update(last_used_at=now)


@dataclass(frozen=True)
class DemoSeed:
    conversation: Conversation
    password: str
    users_created: int
    attendees_added: int
    # Users that existed before this run and kept their password (no ``reset_passwords``).
    users_kept: int = 0


@transaction.atomic
def demo_seed(*, students: int, conversation_name: str, password: str, reset_passwords: bool = False) -> DemoSeed:
    """Create (or complete) the demo data: ``teacher``, ``student1``..``studentN``, the group
    conversation ``conversation_name`` owned by the teacher with the students as attendees, and
    the operator ``admin`` (a superuser, in no conversation).

    Idempotent: a second run creates nothing new and reuses the conversation. Users created now
    get ``password`` (one hash for all of them, so 3,000 students cost one slow hash); users that
    already exist keep theirs (someone may have changed it on purpose) unless
    ``reset_passwords``. Writes are bulk: a fixed number of queries whatever the number of
    students.
    """
    if students < 0:
        raise BadRequest("students", message="The number of students must not be negative")
    if not password:
        raise BadRequest("password", message="The password must not be empty")
    name = conversation_name.strip()
    if not name or len(name) > 255:
        raise BadRequest("name", message="The conversation name must be 1 to 255 characters")

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
        system_messages_post(actor=teacher, messages=[SystemMessage(room_id=room.pk, key="conversation_created")])
        present: set[int] = set()
        placements.append(Placement.of_user(teacher, room, Attendee.ParticipantType.OWNER))
    else:
        # Another run (or a teacher's request) may be changing the same conversation.
        room = conversation_tree_lock(parent_id=room.pk)
        present = set(
            Attendee.objects.filter(room=room, actor_type=Attendee.ACTOR_USERS).values_list("user_id", flat=True)
        )
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
