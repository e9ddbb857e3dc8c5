"""A first run without traps: seed_demo creates an operator login and never changes existing
passwords unless asked, the secrets it and the Makefile write are readable by their owner only,
and / leads somewhere useful."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from conversations.models import Conversation
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
User = get_user_model()


def password_works(username: str, password: str) -> bool:
    return User.objects.get(username=username).check_password(password)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_seed_demo_creates_the_operator_admin_with_the_demo_password(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw")

    output = seed("--students", "2")

    admin = User.objects.get(username="admin")
    assert (admin.is_staff, admin.is_superuser, admin.is_active) == (True, True, True)
    assert admin.check_password("demo-pw")
    assert "Operator login for /admin/: admin" in output
    assert Client().login(username="admin", password="demo-pw")


def test_the_operator_is_in_no_conversation(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw")

    seed("--students", "2")

    room = Conversation.objects.get(name="Demo class")
    assert sorted(room.attendees.values_list("actor_id", flat=True)) == ["student1", "student2", "teacher"]


def test_seed_demo_keeps_the_passwords_of_existing_users(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    UserFactory(username="admin", is_staff=True, is_superuser=True, password="the-operators-own")
    monkeypatch.setenv("DEMO_PASSWORD", "first-pw")
    seed("--students", "2")
    monkeypatch.setenv("DEMO_PASSWORD", "second-pw")

    output = seed("--students", "3")

    assert password_works("admin", "the-operators-own")
    assert password_works("teacher", "first-pw")
    assert password_works("student2", "first-pw")
    assert password_works("student3", "second-pw")
    assert not password_works("student2", "second-pw")
    assert "Password of the 1 user(s) created now (from $DEMO_PASSWORD): second-pw" in output
    assert "4 user(s) existed and kept their password" in output


def test_reset_passwords_sets_every_demo_users_password(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    UserFactory(username="admin", is_staff=True, is_superuser=True, password="the-operators-own")
    UserFactory(username="bystander", password="not-a-demo-user")
    monkeypatch.setenv("DEMO_PASSWORD", "first-pw")
    seed("--students", "2")
    monkeypatch.setenv("DEMO_PASSWORD", "second-pw")

    output = seed("--students", "2", "--reset-passwords")

    for username in ("admin", "teacher", "student1", "student2"):
        assert password_works(username, "second-pw"), username
    assert password_works("bystander", "not-a-demo-user")
    assert "Password of every demo user (from $DEMO_PASSWORD): second-pw" in output


def test_seed_demo_writes_its_report_readable_by_the_owner_only(
    db: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw")
    report = tmp_path / "var" / "seed.txt"
    report.parent.mkdir()
    report.write_text("an old report\n")
    report.chmod(0o644)

    printed = seed("--students", "1", "--output", str(report))

    assert printed == ""
    assert mode(report) == 0o600
    text = report.read_text()
    assert "demo-pw" in text
    assert text.strip().splitlines()[-1] == Conversation.objects.get(name="Demo class").token


def test_the_makefile_creates_the_secret_key_and_demo_password_readable_by_the_owner_only(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = {**os.environ, "MAKEFLAGS": ""}
    result = subprocess.run(
        ["make", "-s", f"VENV={sys.prefix}", f"VAR={var}", f"{var}/secret_key", f"{var}/demo_password"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert mode(var) == 0o700
    assert mode(var / "secret_key") == 0o600
    assert mode(var / "demo_password") == 0o600
    assert len((var / "secret_key").read_text().strip()) >= 50


def test_the_home_page_leads_to_the_admin_and_the_docs(db: None) -> None:
    response = Client().get("/")

    html = response.content.decode()
    assert response.status_code == 200
    for link in ('href="/admin/"', 'href="/api/docs/"', 'href="/api/redoc/"', 'href="/healthz"'):
        assert link in html
