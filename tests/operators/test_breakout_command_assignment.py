"""``manage.py breakout``: export --history, template-export and template-import (issue 12)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from breakout.models import AssignmentTemplate
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation

pytestmark = pytest.mark.django_db


def breakout(*args: str) -> str:
    out = io.StringIO()
    call_command("breakout", *args, stdout=out)
    return out.getvalue()


def test_export_history_writes_one_line_per_stay(room: Conversation, owner: User, student: User) -> None:
    pk = Attendee.objects.get(room=room, user=student).pk
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=2, attendee_map={pk: 0})
    lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map={pk: 1})
    lifecycle.breakout_remove(actor=owner, parent=room)

    rows = list(csv.DictReader(io.StringIO(breakout("export", room.token, "--history"))))

    assert [(r["user_id"], r["room_name"], r["how"], r["ended_by"]) for r in rows] == [
        ("student", "Room 1", "manual", "reorganize"),
        ("student", "Room 2", "reorganize", "round-end"),
    ]
    assert all(r["removed_at"] for r in rows)


def test_templates_export_and_import_as_csv(room: Conversation, owner: User, tmp_path: Path) -> None:
    AssignmentTemplate.objects.create(owner=owner, name="w1", rows=[{"userId": "student", "room": "Room 2"}])

    exported = breakout("template-export", room.token, "--name", "w1")
    path = tmp_path / "t.csv"
    path.write_text(exported, encoding="utf-8")
    message = breakout("template-import", room.token, "--name", "w2", "--csv", str(path))

    assert exported == "user_id,room_name\nstudent,Room 2\n"
    assert "Imported template 'w2'" in message
    assert AssignmentTemplate.objects.get(owner=owner, name="w2").rows == [{"userId": "student", "room": "Room 2"}]


def test_template_import_refuses_bad_lines_and_changes_nothing(room: Conversation, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("student,Room 1\nbroken\n", encoding="utf-8")

    with pytest.raises(CommandError, match="line 2"):
        breakout("template-import", room.token, "--name", "w", "--csv", str(path))
    with pytest.raises(CommandError, match="--name"):
        breakout("template-export", room.token)
    assert not AssignmentTemplate.objects.exists()


def test_template_import_reads_a_byte_order_mark_and_refuses_a_file_that_is_not_utf8(
    room: Conversation, owner: User, tmp_path: Path
) -> None:
    spreadsheet = tmp_path / "bom.csv"
    spreadsheet.write_bytes("\ufeffuser_id,room_name\nstudent,Room 2\n".encode())
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("student,Salle é\n".encode("latin-1"))

    breakout("template-import", room.token, "--name", "bom", "--csv", str(spreadsheet))
    with pytest.raises(CommandError, match="is not a UTF-8 CSV file"):
        breakout("template-import", room.token, "--name", "latin1", "--csv", str(latin1))

    assert AssignmentTemplate.objects.get(owner=owner, name="bom").rows == [{"userId": "student", "room": "Room 2"}]
    assert not AssignmentTemplate.objects.filter(name="latin1").exists()
