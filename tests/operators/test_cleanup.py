"""The ``cleanup`` command and the maintenance services behind it."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import AppPassword, User
from accounts.services import app_passwords_prune, app_passwords_revoke
from breakout.services.maintenance import breakout_orphans_remove
from conversations.models import Attendee, ChatMessage, Conversation
from tests.conversations.leftovers import leftovers_add
from tests.factories import AttendeeFactory, ChatMessageFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def run_cleanup(*args: str) -> str:
    out = StringIO()
    call_command("cleanup", *args, stdout=out)
    return out.getvalue()


def make_app_password(user: User, name: str, *, created_days_ago: int, used_days_ago: int | None) -> AppPassword:
    now = timezone.now()
    return AppPassword.objects.create(
        user=user,
        name=name,
        token_hash=AppPassword.hash_token(f"{user.username}-{name}"),
        created_at=now - timedelta(days=created_days_ago),
        last_used_at=None if used_days_ago is None else now - timedelta(days=used_days_ago),
    )


@pytest.fixture
def orphan_tree() -> tuple[Conversation, Conversation, Conversation]:
    """An unconfigured parent with one breakout room (an orphan, with an attendee and a message)
    and a configured parent with one breakout room (not an orphan)."""
    unconfigured = ConversationFactory(name="Unconfigured")
    orphan = ConversationFactory(name="Orphan", parent=unconfigured)
    AttendeeFactory(room=orphan)
    ChatMessageFactory(room=orphan)
    configured = ConversationFactory(name="Configured", breakout_room_mode=Conversation.BreakoutMode.AUTOMATIC)
    kept = ConversationFactory(name="Kept", parent=configured)
    return unconfigured, orphan, kept


def test_cleanup_removes_orphan_breakout_rooms_with_their_attendees_and_chat(
    orphan_tree: tuple[Conversation, Conversation, Conversation],
) -> None:
    unconfigured, orphan, kept = orphan_tree

    output = run_cleanup()

    assert not Conversation.objects.filter(pk=orphan.pk).exists()
    assert not Attendee.objects.filter(room_id=orphan.pk).exists()
    assert not ChatMessage.objects.filter(room_id=orphan.pk).exists()
    assert Conversation.objects.filter(pk__in=[unconfigured.pk, kept.pk]).count() == 2
    assert "Removed 1 orphan breakout room(s)." in output
    assert f"room {orphan.token} 'Orphan' (parent {unconfigured.token} is not configured)" in output


def test_cleanup_dry_run_reports_orphans_and_changes_nothing(
    orphan_tree: tuple[Conversation, Conversation, Conversation],
) -> None:
    _, orphan, _ = orphan_tree

    output = run_cleanup("--dry-run")

    assert Conversation.objects.filter(pk=orphan.pk).exists()
    assert "Would remove 1 orphan breakout room(s)." in output
    assert orphan.token in output
    assert "Dry run: nothing was changed." in output


def test_cleanup_run_twice_finds_nothing_the_second_time(
    orphan_tree: tuple[Conversation, Conversation, Conversation], owner: User
) -> None:
    make_app_password(owner, "old", created_days_ago=200, used_days_ago=100)
    run_cleanup()

    output = run_cleanup()

    assert "Removed 0 orphan breakout room(s)." in output
    assert "Removed 0 app password(s) unused for more than 90 day(s)." in output
    assert Conversation.objects.count() == 3


def test_cleanup_prunes_app_passwords_by_last_use_or_creation_when_never_used(owner: User, student: User) -> None:
    used_long_ago = make_app_password(owner, "laptop", created_days_ago=400, used_days_ago=91)
    never_used_old = make_app_password(student, "phone", created_days_ago=95, used_days_ago=None)
    used_recently = make_app_password(owner, "desktop", created_days_ago=400, used_days_ago=3)
    never_used_new = make_app_password(student, "tablet", created_days_ago=10, used_days_ago=None)

    output = run_cleanup()

    remaining = set(AppPassword.objects.values_list("pk", flat=True))
    assert remaining == {used_recently.pk, never_used_new.pk}
    assert "Removed 2 app password(s) unused for more than 90 day(s)." in output
    assert f"#{used_long_ago.pk} owner / laptop (last used" in output
    assert f"#{never_used_old.pk} student / phone (never used, created" in output


def test_cleanup_max_age_chooses_the_cut_off(owner: User) -> None:
    recent = make_app_password(owner, "recent", created_days_ago=400, used_days_ago=5)
    older = make_app_password(owner, "older", created_days_ago=400, used_days_ago=20)

    output = run_cleanup("--max-age", "10", "--dry-run")

    assert "Would remove 1 app password(s) unused for more than 10 day(s)." in output
    assert f"#{older.pk}" in output and f"#{recent.pk}" not in output
    assert AppPassword.objects.count() == 2


@pytest.mark.parametrize("value", ["-1", "ten", "1.5", ""])
def test_cleanup_rejects_a_bad_max_age_and_changes_nothing(
    value: str, orphan_tree: tuple[Conversation, Conversation, Conversation], owner: User
) -> None:
    make_app_password(owner, "old", created_days_ago=200, used_days_ago=None)

    with pytest.raises(CommandError, match="--max-age"):
        run_cleanup("--max-age", value)

    assert Conversation.objects.count() == 4
    assert AppPassword.objects.count() == 1


def test_cleanup_help_explains_why_a_missing_parent_cannot_occur() -> None:
    from breakout.management.commands.cleanup import Command

    parser = Command().create_parser("manage.py", "cleanup")

    help_text = " ".join(parser.format_help().split())
    assert "whose parent is gone cannot exist in this schema" in help_text
    assert "--max-age DAYS" in help_text


def test_orphan_removal_costs_the_same_queries_for_one_or_many_rooms(
    django_assert_num_queries: pytest.FixtureDef,
) -> None:
    def make_orphans(count: int) -> None:
        parent = ConversationFactory()
        for _ in range(count):
            orphan = ConversationFactory(parent=parent)
            AttendeeFactory(room=orphan)
            leftovers_add(orphan, messages=count, reactions=count, votes=count)

    make_orphans(1)
    # savepoint, read orphans, lock parents, DELETE the rooms' reactions, reminders, poll votes
    # and polls (one each), then Django's cascading delete: collect the rooms (read), their
    # breakout children (none), their chat, breakout rounds of the rooms (none: rounds belong to
    # parents); delete attendees (by room and by breakout_parent), their uploaded pictures, timers
    # and assistance requests (none: both belong to parents), unset replies to the chat, delete
    # the chat, the rooms; release savepoint. (Without messages the UPDATE and DELETE of the chat
    # are skipped: 17.)
    with django_assert_num_queries(19) as small:
        assert len(breakout_orphans_remove(dry_run=False)) == 1
    make_orphans(6)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(breakout_orphans_remove(dry_run=False)) == 6


def test_app_password_prune_costs_two_queries_whatever_the_number(
    owner: User, django_assert_num_queries: pytest.FixtureDef
) -> None:
    for index in range(5):
        make_app_password(owner, f"p{index}", created_days_ago=300, used_days_ago=None)

    # savepoint, read + lock the stale rows, delete them, release savepoint
    with django_assert_num_queries(4):
        assert len(app_passwords_prune(max_age_days=90, dry_run=False)) == 5
    assert not AppPassword.objects.exists()


def test_app_passwords_revoke_deletes_only_the_given_passwords(owner: User) -> None:
    first = make_app_password(owner, "a", created_days_ago=1, used_days_ago=None)
    second = make_app_password(owner, "b", created_days_ago=1, used_days_ago=None)

    assert app_passwords_revoke(app_password_ids=[first.pk]) == 1

    assert list(AppPassword.objects.values_list("pk", flat=True)) == [second.pk]
