"""seed_demo, through call_command."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation
from tests.helpers import EVENT_QUERIES


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_teacher_students_and_the_class_and_prints_the_token_last(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw")

    output = run("seed_demo", "--students", "5", "--conversation", "Maths")

    room = Conversation.objects.get(name="Maths")
    assert output.strip().splitlines()[-1] == room.token
    assert "demo-pw" in output
    assert room.type == Conversation.Type.GROUP
    attendees = list(room.attendees.order_by("id").values_list("actor_id", "participant_type"))
    assert attendees == [("teacher", 1)] + [(f"student{n}", 3) for n in range(1, 6)]
    assert User.objects.get(username="student5").check_password("demo-pw")
    assert User.objects.get(username="teacher").check_password("demo-pw")
    assert ChatMessage.objects.filter(room=room, system_message="conversation_created").count() == 1


def test_seed_demo_is_idempotent_and_completes_a_larger_class(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw")
    first = run("seed_demo", "--students", "3").strip().splitlines()[-1]

    second = run("seed_demo", "--students", "3").strip().splitlines()[-1]
    third = run("seed_demo", "--students", "4").strip().splitlines()[-1]

    assert first == second == third
    assert Conversation.objects.filter(name="Demo class").count() == 1
    room = Conversation.objects.get(name="Demo class")
    assert room.attendees.count() == 5
    assert User.objects.filter(username__startswith="student").count() == 4
    assert ChatMessage.objects.filter(room=room, system_message="conversation_created").count() == 1


def test_seed_demo_without_a_password_prints_a_generated_one_that_works(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)

    output = run("seed_demo", "--students", "2")

    line = next(line for line in output.splitlines() if "Password" in line)
    password = line.rsplit(": ", 1)[1]
    assert len(password) >= 12
    assert User.objects.get(username="teacher").check_password(password)
    assert User.objects.get(username="student2").check_password(password)


def test_seed_demo_defaults_to_30_students_in_demo_class(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw")

    run("seed_demo")

    room = Conversation.objects.get(name="Demo class")
    assert room.attendees.filter(participant_type=Attendee.ParticipantType.USER).count() == 30


@pytest.mark.parametrize("students", [10, 300])
def test_seed_demo_costs_a_fixed_number_of_queries(
    db: None, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any, students: int
) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw")

    # savepoint; existing usernames; INSERT users; SELECT users; find the class;
    # savepoint, INSERT room, release; INSERT conversation_created; touch room; INSERT attendees;
    # INSERT user_added messages; touch room; release
    with django_assert_num_queries(14 + EVENT_QUERIES):
        run("seed_demo", "--students", str(students))
    # savepoint; existing usernames; SELECT users; find the class; lock it; present attendees;
    # release (nothing to insert, existing passwords are kept)
    with django_assert_num_queries(7):
        run("seed_demo", "--students", str(students))
    # the same plus one UPDATE of the existing users' passwords
    with django_assert_num_queries(8):
        run("seed_demo", "--students", str(students), "--reset-passwords")


def test_seed_demo_refuses_a_negative_number_of_students(db: None) -> None:
    with pytest.raises(CommandError):
        run("seed_demo", "--students", "-1")


def test_seed_demo_refuses_an_empty_conversation_name(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw")

    with pytest.raises(CommandError):
        run("seed_demo", "--conversation", "  ")
    assert not User.objects.filter(username="teacher").exists()
