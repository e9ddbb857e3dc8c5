"""``manage.py breakout``: status, start, stop, remove, assign and export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from breakout.services.lifecycle import assistance_request, breakout_start
from conversations.models import Attendee, ChatMessage, Conversation
from tests.factories import UserFactory
from tests.operators.conftest import ParentMaker

pytestmark = pytest.mark.django_db


def breakout(*args: str) -> str:
    out = io.StringIO()
    call_command("breakout", *args, stdout=out)
    return out.getvalue()


def placement(parent: Conversation) -> dict[str, int]:
    """Each student's 1-based room number, read from the database."""
    numbers = {
        room_id: n for n, room_id in enumerate(parent.breakout_rooms.order_by("id").values_list("pk", flat=True), 1)
    }
    rows = Attendee.objects.filter(room__parent=parent, participant_type__in=Attendee.STUDENT_TYPES)
    return {actor_id: numbers[room_id] for actor_id, room_id in rows.values_list("actor_id", "room_id")}


def write_csv(tmp_path: Path, text: str, name: str = "assign.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def manual_parent(make_parent: ParentMaker) -> Conversation:
    """Manual mode, three rooms, students pupilN-0..3 in no room yet; owner teacherN."""
    return make_parent(students=4, rooms=3, mode=Conversation.BreakoutMode.MANUAL)


def pupils(parent: Conversation) -> list[str]:
    return list(
        Attendee.objects.filter(room=parent, participant_type=Attendee.ParticipantType.USER)
        .order_by("id")
        .values_list("actor_id", flat=True)
    )


# --- status -----------------------------------------------------------------------------------


def test_status_prints_rooms_attendees_and_assistance_requests(make_parent: ParentMaker, operator: User) -> None:
    parent = make_parent(students=3, rooms=2)
    breakout_start(actor=operator, parent=parent, as_operator=True)
    first, second = parent.breakout_rooms.order_by("id")
    assistance_request(actor=operator, room=second, as_operator=True)
    in_first = sorted(placement(parent).items())

    output = breakout("status", parent.token)

    assert f"({parent.token}): mode automatic, started, 2 breakout room(s), 4 attendee(s)" in output
    assert f"  Room 1: Room 1 ({first.token}), lobby open" in output
    assert f"  Room 2: Room 2 ({second.token}), lobby open" in output
    assert "ASSISTANCE REQUESTED" in output.split("Room 2: ")[1].splitlines()[0]
    assert "ASSISTANCE REQUESTED" not in output.split("Room 1: ")[1].splitlines()[0]
    assert f"Assistance requests: 1: Room 2 ({second.token})" in output
    for actor_id, _ in in_first:
        assert actor_id in output
    assert "Students in no breakout room: -" in output


def test_status_lists_students_without_a_room(manual_parent: Conversation) -> None:
    output = breakout("status", manual_parent.token)

    assert f"Students in no breakout room: {', '.join(pupils(manual_parent))}" in output
    assert "Assistance requests: 0" in output


def test_status_query_count_does_not_grow_with_rooms_or_attendees(
    make_parent: ParentMaker, django_assert_num_queries: object
) -> None:
    small = make_parent(students=2, rooms=2)
    large = make_parent(students=12, rooms=6)
    # the parent (with its parent joined), its rooms, the attendees of parent and rooms
    for parent in (small, large):
        with django_assert_num_queries(3):  # type: ignore[operator]
            breakout("status", parent.token)


# --- token and argument errors ----------------------------------------------------------------


def test_unknown_token_is_an_error(db: None) -> None:
    with pytest.raises(CommandError, match="no conversation with token 'nope'"):
        breakout("status", "nope")


def test_a_breakout_room_token_is_refused_with_the_parents_token(make_parent: ParentMaker) -> None:
    parent = make_parent()
    breakout_room = parent.breakout_rooms.first()

    with pytest.raises(CommandError, match=f"breakout room of {parent.token}"):
        breakout("start", breakout_room.token)


def test_unknown_action_is_a_usage_error(manual_parent: Conversation) -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        breakout("explode", manual_parent.token)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("assign",), "assign needs --csv FILE"),
        (("status", "--csv", "x.csv"), "--csv is only used by 'assign'"),
        (("start", "--format", "json"), "--format is only used by 'export'"),
        (("start", "--actor", "ghost"), "--actor: no user 'ghost'"),
    ],
)
def test_misused_options_are_errors(manual_parent: Conversation, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        breakout(args[0], manual_parent.token, *args[1:])
    manual_parent.refresh_from_db()
    assert manual_parent.breakout_room_status == 0


def test_bad_format_is_a_usage_error(manual_parent: Conversation) -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        breakout("export", manual_parent.token, "--format", "xml")


# --- start, stop, remove ----------------------------------------------------------------------


def test_start_without_actor_acts_as_the_service_and_a_second_run_says_already_started(
    make_parent: ParentMaker,
) -> None:
    parent = make_parent()

    first = breakout("start", parent.token)
    second = breakout("start", parent.token)

    parent.refresh_from_db()
    assert parent.breakout_room_status == 1
    assert set(parent.breakout_rooms.values_list("lobby_state", flat=True)) == {0}
    assert first == f"Started {parent.token} (as the service itself).\n"
    assert second == f"{parent.token} was already started; nothing changed.\n"
    started = ChatMessage.objects.filter(room__parent=parent, system_message="breakout_rooms_started")
    assert started.count() == 2  # one per room, none for the second run
    # The system messages say the service did it, as Talk records its command line.
    assert set(started.values_list("actor_type", "actor_id")) == {("guests", "cli")}
    assert started.first().parameters["actor"] == {
        "type": "guest",
        "id": "guest/cli",
        "name": "Service (command line)",
    }


def test_start_acts_as_the_given_moderator(make_parent: ParentMaker) -> None:
    parent = make_parent()
    owner_id = Attendee.objects.get(room=parent, participant_type=1).actor_id

    assert breakout("start", parent.token, "--actor", owner_id) == f"Started {parent.token} (as {owner_id}).\n"

    assert (
        ChatMessage.objects.filter(
            room__parent=parent, system_message="breakout_rooms_started", actor_type="users", actor_id=owner_id
        ).count()
        == 2
    )


def test_stop_closes_the_rooms_twice_safely(make_parent: ParentMaker, operator: User) -> None:
    parent = make_parent()
    breakout_start(actor=operator, parent=parent, as_operator=True)

    breakout("stop", parent.token)
    breakout("stop", parent.token)

    parent.refresh_from_db()
    assert parent.breakout_room_status == 0
    assert set(parent.breakout_rooms.values_list("lobby_state", flat=True)) == {1}


def test_remove_deletes_the_rooms_and_a_second_run_succeeds(make_parent: ParentMaker) -> None:
    parent = make_parent()

    breakout("remove", parent.token)
    breakout("remove", parent.token)

    parent.refresh_from_db()
    assert (parent.breakout_room_mode, parent.breakout_room_status) == (0, 0)
    assert not parent.breakout_rooms.exists()


def test_start_of_an_unconfigured_parent_fails_with_the_service_error(room: Conversation) -> None:
    with pytest.raises(CommandError, match=r"refused: breakout rooms are not configured \(mode\)"):
        breakout("start", room.token)


def test_without_actor_the_service_acts_also_where_nobody_owns_the_conversation(make_parent: ParentMaker) -> None:
    parent = make_parent()
    Attendee.objects.filter(room__in=[parent, *parent.breakout_rooms.all()], participant_type=1).delete()

    assert breakout("start", parent.token) == f"Started {parent.token} (as the service itself).\n"


# --- assign -----------------------------------------------------------------------------------


def test_assign_places_students_by_1_based_room_numbers(manual_parent: Conversation, tmp_path: Path) -> None:
    a, b, c, _ = pupils(manual_parent)
    path = write_csv(tmp_path, f"user_id,room\n{a},1\n{b},3\n\n{c},3\n")

    output = breakout("assign", manual_parent.token, "--csv", path)

    assert placement(manual_parent) == {a: 1, b: 3, c: 3}
    assert output == (
        f"Assigned 3 student(s) in {manual_parent.token} (as the service itself): 3 moved, 0 already in their room.\n"
    )


def test_assign_without_a_header_line_and_run_twice_gives_the_same_placement(
    manual_parent: Conversation, tmp_path: Path
) -> None:
    a, b, _, _ = pupils(manual_parent)
    path = write_csv(tmp_path, f"{a},2\n{b},1\n")

    breakout("assign", manual_parent.token, "--csv", path)
    rows_after_first = set(Attendee.objects.filter(room__parent=manual_parent).values_list("pk", flat=True))
    breakout("assign", manual_parent.token, "--csv", path)

    assert placement(manual_parent) == {a: 2, b: 1}
    assert set(Attendee.objects.filter(room__parent=manual_parent).values_list("pk", flat=True)) == rows_after_first


def test_assign_moves_a_student_between_rooms(manual_parent: Conversation, tmp_path: Path) -> None:
    a, _, _, _ = pupils(manual_parent)
    breakout("assign", manual_parent.token, "--csv", write_csv(tmp_path, f"{a},1\n"))

    breakout("assign", manual_parent.token, "--csv", write_csv(tmp_path, f"{a},3\n"))

    assert placement(manual_parent) == {a: 3}


def test_assign_reports_every_bad_line_and_changes_nothing(manual_parent: Conversation, tmp_path: Path) -> None:
    a, b, c, d = pupils(manual_parent)
    UserFactory(username="stranger")
    owner_id = manual_parent.attendees.get(participant_type=1).actor_id
    path = write_csv(
        tmp_path,
        "user_id,room\n"
        f"{a},1\n"  # line 2: fine on its own
        f"{b},4\n"  # line 3: only three rooms
        f"{c},zero\n"  # line 4
        f"{d},1,extra\n"  # line 5
        "ghost,1\n"  # line 6
        "stranger,2\n"  # line 7
        f"{owner_id},1\n"  # line 8
        f"{a},2\n"  # line 9: a twice
        ",2\n"  # line 10
        f"{c},0\n",  # line 11
    )

    with pytest.raises(CommandError) as raised:
        breakout("assign", manual_parent.token, "--csv", path)

    message = str(raised.value)
    assert message.startswith("nothing was changed:")
    for expected in (
        "line 3: room number 4 is not between 1 and 3",
        "line 4: room number 'zero' is not a whole number",
        "line 5: expected 2 columns (user id, room number), got 3",
        "line 6: unknown user 'ghost'",
        f"line 7: user 'stranger' is not in the conversation {manual_parent.token}",
        f"line 8: user '{owner_id}' is a moderator of the conversation",
        f"line 9: user '{a}' is already assigned on line 2",
        "line 10: the user id is empty",
        "line 11: room number 0 is not between 1 and 3",
    ):
        assert expected in message
    reported_lines = [int(line.split(":")[0].removeprefix("line ")) for line in message.splitlines()[1:]]
    assert reported_lines == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert placement(manual_parent) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no assignment lines"),
        ("user_id,room\n", "no assignment lines"),
        (None, "cannot read"),
    ],
)
def test_assign_refuses_empty_or_missing_files(
    manual_parent: Conversation, tmp_path: Path, content: str | None, message: str
) -> None:
    path = write_csv(tmp_path, content) if content is not None else str(tmp_path / "missing.csv")

    with pytest.raises(CommandError, match=message):
        breakout("assign", manual_parent.token, "--csv", path)


def test_assign_refuses_a_file_that_is_not_utf8(manual_parent: Conversation, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("j\xf6rg,1\n".encode("latin-1"))

    with pytest.raises(CommandError, match="is not a UTF-8 CSV file"):
        breakout("assign", manual_parent.token, "--csv", str(path))


def test_assign_on_an_unconfigured_parent_is_refused(room: Conversation, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="breakout rooms are not configured"):
        breakout("assign", room.token, "--csv", write_csv(tmp_path, "student,1\n"))


def test_assign_refused_by_the_service_changes_nothing(manual_parent: Conversation, tmp_path: Path) -> None:
    # A former student promoted to moderator in one breakout room only: the service refuses
    # ("moderator"), the file itself is fine.
    a, b, _, _ = pupils(manual_parent)
    breakout("assign", manual_parent.token, "--csv", write_csv(tmp_path, f"{a},1\n"))
    Attendee.objects.filter(room__parent=manual_parent, actor_id=a).update(participant_type=2)

    with pytest.raises(CommandError, match=r"\(moderator\)"):
        breakout("assign", manual_parent.token, "--csv", write_csv(tmp_path, f"{b},2\n{a},3\n"))

    assert placement(manual_parent) == {}
    assert Attendee.objects.get(room__parent=manual_parent, actor_id=a).participant_type == 2


# --- export -----------------------------------------------------------------------------------


def test_export_csv_reads_back_with_assign(make_parent: ParentMaker, tmp_path: Path) -> None:
    parent = make_parent(students=5, rooms=2)
    before = placement(parent)

    exported = breakout("export", parent.token)

    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["user_id", "room"]
    assert {user_id: int(room) for user_id, room in rows[1:]} == before
    # move everyone in the database away, then read the export back
    path = write_csv(tmp_path, exported, "export.csv")
    swapped = "user_id,room\n" + "".join(f"{user_id},{3 - room}\n" for user_id, room in before.items())
    breakout("assign", parent.token, "--csv", write_csv(tmp_path, swapped))
    assert placement(parent) != before
    breakout("assign", parent.token, "--csv", path)
    assert placement(parent) == before


def test_export_json_lists_rooms_and_assignments(make_parent: ParentMaker) -> None:
    parent = make_parent(students=3, rooms=2)
    rooms = list(parent.breakout_rooms.order_by("id"))

    document = json.loads(breakout("export", parent.token, "--format", "json"))

    assert document["token"] == parent.token
    assert (document["mode"], document["status"]) == (1, 0)
    assert document["rooms"] == [
        {"room": 1, "token": rooms[0].token, "name": "Room 1"},
        {"room": 2, "token": rooms[1].token, "name": "Room 2"},
    ]
    assert {a["user_id"]: a["room"] for a in document["assignments"]} == placement(parent)


def test_export_of_an_unconfigured_parent_is_an_error(room: Conversation) -> None:
    with pytest.raises(CommandError, match="breakout rooms are not configured"):
        breakout("export", room.token)


def test_help_documents_every_action() -> None:
    from breakout.management.commands.breakout import Command

    text = " ".join(Command().create_parser("manage.py", "breakout").format_help().split())

    for word in ("status", "start", "stop", "remove", "assign --csv FILE", "export [--format csv|json]", "1-based"):
        assert word in text
