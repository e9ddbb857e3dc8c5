"""adduser, addgroup, appconfig and apppassword, through call_command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.authentication import verify_credentials
from accounts.models import AppConfigValue, AppPassword, User
from tests.factories import UserFactory


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- adduser -----------------------------------------------------------------------------------


def test_adduser_reads_the_password_from_the_environment(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_PASSWORD", "pw-from-env-7d2k")

    output = run("adduser", "carol", "--display-name", "Carol C.", "--password-from-env")

    user = User.objects.get(username="carol")
    assert user.display_name == "Carol C."
    assert user.check_password("pw-from-env-7d2k")
    assert "carol" in output


def test_adduser_prompts_for_the_password_without_the_flag(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["typed-pass-9x", "typed-pass-9x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    run("adduser", "dave")

    user = User.objects.get(username="dave")
    assert user.check_password("typed-pass-9x")
    assert user.get_display_name() == "dave"


def test_adduser_refuses_mismatching_prompted_passwords(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["one", "two"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    with pytest.raises(CommandError, match="do not match"):
        run("adduser", "dave")
    assert not User.objects.filter(username="dave").exists()


@pytest.mark.parametrize("env", [None, ""])
def test_adduser_refuses_an_empty_password_from_the_environment(
    db: None, monkeypatch: pytest.MonkeyPatch, env: str | None
) -> None:
    if env is None:
        monkeypatch.delenv("USER_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("USER_PASSWORD", env)

    with pytest.raises(CommandError, match="USER_PASSWORD"):
        run("adduser", "erin", "--password-from-env")
    assert not User.objects.filter(username="erin").exists()


def test_adduser_refuses_an_empty_prompted_password(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "")

    with pytest.raises(CommandError, match="empty"):
        run("adduser", "erin")


def test_adduser_refuses_a_duplicate_user_id_with_a_clear_error(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    UserFactory(username="carol", display_name="First")
    monkeypatch.setenv("USER_PASSWORD", "a-fine-pass-42")

    with pytest.raises(CommandError, match="'carol' already exists"):
        run("adduser", "carol", "--display-name", "Second", "--password-from-env")
    assert User.objects.get(username="carol").display_name == "First"


def test_adduser_duplicate_exits_with_status_1(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    UserFactory(username="carol")
    monkeypatch.setenv("USER_PASSWORD", "a-fine-pass-42")

    with pytest.raises(SystemExit) as exit_info:
        from django.core.management import ManagementUtility

        ManagementUtility(["manage.py", "adduser", "carol", "--password-from-env"]).execute()
    assert exit_info.value.code == 1


# --- addgroup ----------------------------------------------------------------------------------


def test_addgroup_creates_the_group_with_members_and_is_safe_to_repeat(db: None) -> None:
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")

    run("addgroup", "class-a", "--member", "alice")
    output = run("addgroup", "class-a", "--member", "alice", "--member", "bob")

    group = Group.objects.get(name="class-a")
    assert set(group.user_set.all()) == {alice, bob}
    assert "bob" in output
    assert Group.objects.filter(name="class-a").count() == 1


def test_addgroup_with_an_unknown_member_changes_nothing(db: None) -> None:
    UserFactory(username="alice")

    with pytest.raises(CommandError, match="ghost"):
        run("addgroup", "class-b", "--member", "alice", "--member", "ghost")
    assert not Group.objects.filter(name="class-b").exists()


def test_addgroup_refuses_an_empty_group_id(db: None) -> None:
    with pytest.raises(CommandError):
        run("addgroup", " ")


# --- appconfig ---------------------------------------------------------------------------------


def test_appconfig_prints_the_default_value(db: None) -> None:
    assert run("appconfig", "breakout_rooms") == "yes\n"


def test_appconfig_sets_and_prints_the_value(db: None) -> None:
    assert run("appconfig", "breakout_rooms", "no") == "no\n"
    assert AppConfigValue.objects.get(key="breakout_rooms").value == "no"
    assert run("appconfig", "breakout_rooms") == "no\n"
    run("appconfig", "breakout_rooms", "yes")
    assert AppConfigValue.objects.get(key="breakout_rooms").value == "yes"


def test_appconfig_refuses_to_read_an_unknown_key(db: None) -> None:
    with pytest.raises(CommandError, match="Unknown app config key 'unknown_key'"):
        run("appconfig", "unknown_key")


def test_appconfig_refuses_a_too_long_key(db: None) -> None:
    with pytest.raises(CommandError):
        run("appconfig", "k" * 65, "v")


# --- apppassword -------------------------------------------------------------------------------


def test_apppassword_prints_a_token_that_logs_in(db: None) -> None:
    UserFactory(username="alice")

    token = run("apppassword", "alice").strip()

    assert len(token) == 72
    assert verify_credentials("alice", token).username == "alice"
    assert AppPassword.objects.get().token_hash == AppPassword.hash_token(token)


def test_apppassword_issues_a_new_token_each_time(db: None) -> None:
    UserFactory(username="alice")

    assert run("apppassword", "alice") != run("apppassword", "alice")
    assert AppPassword.objects.count() == 2


def test_apppassword_for_an_unknown_user_is_an_error(db: None) -> None:
    with pytest.raises(CommandError, match="nobody"):
        run("apppassword", "nobody")
