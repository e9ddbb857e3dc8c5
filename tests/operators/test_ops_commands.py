"""Issue 14's command changes: ``breakout list`` and ``configure``, who acts (``--actor`` a
moderator, else the service itself), honest messages (already started, what really moved),
progress on standard error, ``appconfig``'s known keys and ``adduser``'s password validation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AppConfigValue, User
from breakout.services.lifecycle import assistance_request, breakout_start
from conversations.models import Attendee, ChatMessage, Conversation
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory
from tests.operators.conftest import ParentMaker

pytestmark = pytest.mark.django_db


def run(name: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def breakout(*args: str) -> str:
    return run("breakout", *args)[0]


def table(output: str) -> dict[str, list[str]]:
    """``breakout list``'s rows by token (the header line under "TOKEN")."""
    lines = output.splitlines()
    assert lines[0].split() == ["TOKEN", "NAME", "MODE", "STATUS", "ROOMS", "STUDENTS", "ASSISTANCE"]
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


# --- breakout list ----------------------------------------------------------------------------


def test_list_shows_every_configured_conversation_with_its_counts(make_parent: ParentMaker, operator: User) -> None:
    started = make_parent(students=3, rooms=2)
    stopped = make_parent(students=1, rooms=3, mode=Conversation.BreakoutMode.FREE)
    ConversationFactory(name="Unconfigured")  # not listed
    breakout_start(actor=operator, parent=started, as_operator=True)
    assistance_request(actor=operator, room=started.breakout_rooms.order_by("id").first(), as_operator=True)

    rows = table(breakout("list"))

    # Names are "Class N" (two words), hence the split columns.
    assert rows == {
        started.token: ["Class", started.name.split()[1], "automatic", "started", "2", "3", "1"],
        stopped.token: ["Class", stopped.name.split()[1], "free", "stopped", "3", "1", "0"],
    }


def test_list_filters_started_and_assistance(make_parent: ParentMaker, operator: User) -> None:
    asking = make_parent()
    quiet = make_parent()
    idle = make_parent()
    for parent in (asking, quiet):
        breakout_start(actor=operator, parent=parent, as_operator=True)
    assistance_request(actor=operator, room=asking.breakout_rooms.first(), as_operator=True)

    assert set(table(breakout("list", "--started"))) == {asking.token, quiet.token}
    assert set(table(breakout("list", "--assistance"))) == {asking.token}
    assert set(table(breakout("list"))) == {asking.token, quiet.token, idle.token}


def test_list_says_when_nothing_matches(db: None) -> None:
    assert breakout("list", "--started") == "No conversation with breakout rooms matches.\n"


@pytest.mark.parametrize(("classes", "rooms", "students"), [(1, 2, 2), (5, 6, 12)])
def test_list_costs_one_query_whatever_the_number_of_conversations(
    make_parent: ParentMaker,
    operator: User,
    django_assert_num_queries: pytest.FixtureRequest,
    classes: int,
    rooms: int,
    students: int,
) -> None:
    for _ in range(classes):
        parent = make_parent(students=students, rooms=rooms)
        breakout_start(actor=operator, parent=parent, as_operator=True)
        assistance_request(actor=operator, room=parent.breakout_rooms.first(), as_operator=True)

    # 1: the parents with their counts from correlated subqueries.
    with django_assert_num_queries(1):
        output = breakout("list", "--assistance")

    assert len(table(output)) == classes


def test_list_takes_no_token_and_the_filters_belong_to_list(make_parent: ParentMaker) -> None:
    parent = make_parent()
    with pytest.raises(CommandError, match="list takes no TOKEN"):
        breakout("list", parent.token)
    with pytest.raises(CommandError, match="only used by 'list'"):
        breakout("status", parent.token, "--started")


# --- breakout configure -----------------------------------------------------------------------


@pytest.fixture
def plain_class(db: None) -> Conversation:
    """An unconfigured conversation: owner ``teach``, students ``kid0``..``kid3``."""
    parent = ConversationFactory(name="Plain class")
    AttendeeFactory(room=parent, user=UserFactory(username="teach"), participant_type=Attendee.ParticipantType.OWNER)
    for index in range(4):
        AttendeeFactory(room=parent, user=UserFactory(username=f"kid{index}"))
    return parent


def test_configure_creates_the_rooms_through_the_service(plain_class: Conversation) -> None:
    output = breakout("configure", plain_class.token, "--mode", "automatic", "--amount", "2")

    plain_class.refresh_from_db()
    rooms = list(plain_class.breakout_rooms.order_by("id"))
    assert plain_class.breakout_room_mode == Conversation.BreakoutMode.AUTOMATIC
    assert [room.name for room in rooms] == ["Room 1", "Room 2"]
    assert output == (
        f"Configured 2 breakout room(s) in {plain_class.token}, mode automatic (as the service itself): "
        f"Room 1 ({rooms[0].token}), Room 2 ({rooms[1].token})\n"
    )
    # Every student placed (automatic), the owner in every room.
    assert Attendee.objects.filter(room__parent=plain_class, participant_type=3).count() == 4
    assert Attendee.objects.filter(room__parent=plain_class, actor_id="teach").count() == 2
    created = ChatMessage.objects.filter(room__parent=plain_class, system_message="conversation_created")
    assert set(created.values_list("actor_type", "actor_id")) == {("guests", "cli")}


def test_configure_as_a_moderator(plain_class: Conversation) -> None:
    output = breakout("configure", plain_class.token, "--mode", "manual", "--amount", "3", "--actor", "teach")

    plain_class.refresh_from_db()
    assert plain_class.breakout_room_mode == Conversation.BreakoutMode.MANUAL
    assert "(as teach)" in output
    assert not Attendee.objects.filter(room__parent=plain_class, participant_type=3).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--mode", "automatic"), "configure needs --mode and --amount"),
        (("--amount", "2"), "configure needs --mode and --amount"),
        (("--mode", "automatic", "--amount", "0"), r"refused: .*\(amount\)"),
        (("--mode", "sideways", "--amount", "2"), "invalid choice"),
    ],
)
def test_configure_refuses_bad_input_and_changes_nothing(
    plain_class: Conversation, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        breakout("configure", plain_class.token, *args)

    plain_class.refresh_from_db()
    assert plain_class.breakout_room_mode == 0
    assert not plain_class.breakout_rooms.exists()


def test_configure_names_the_rooms(plain_class: Conversation) -> None:
    output = breakout(
        "configure", plain_class.token, "--mode", "free", "--amount", "2", "--names", "Algebra", " Geometry "
    )

    rooms = list(plain_class.breakout_rooms.order_by("id"))
    assert [room.name for room in rooms] == ["Algebra", "Geometry"]
    assert f"Algebra ({rooms[0].token}), Geometry ({rooms[1].token})" in output


@pytest.mark.parametrize("names", [("Algebra",), ("Algebra", "Algebra"), ("Algebra", "Geometry", "Physics")])
def test_configure_refuses_names_that_do_not_fit_the_amount(plain_class: Conversation, names: tuple[str, ...]) -> None:
    with pytest.raises(CommandError, match=r"refused: the room names must be .*\(names\)"):
        breakout("configure", plain_class.token, "--mode", "free", "--amount", "2", "--names", *names)

    plain_class.refresh_from_db()
    assert plain_class.breakout_room_mode == 0
    assert not plain_class.breakout_rooms.exists()


def test_configure_twice_is_refused_with_the_service_error(make_parent: ParentMaker) -> None:
    parent = make_parent(rooms=2)

    with pytest.raises(CommandError, match=r"refused: .*\(room\)"):
        breakout("configure", parent.token, "--mode", "free", "--amount", "4")
    assert parent.breakout_rooms.count() == 2


def test_mode_and_amount_belong_to_configure(make_parent: ParentMaker) -> None:
    with pytest.raises(CommandError, match="only used by 'configure'"):
        breakout("start", make_parent().token, "--amount", "3")
    with pytest.raises(CommandError, match="only used by 'configure'"):
        breakout("start", make_parent().token, "--names", "A")


# --- who acts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["student", "operator"])
@pytest.mark.parametrize("action", ["start", "stop", "remove"])
def test_actor_must_be_a_moderator_of_the_conversation(
    make_parent: ParentMaker, operator: User, who: str, action: str
) -> None:
    parent = make_parent()
    actor = operator.username if who == "operator" else parent.attendees.filter(participant_type=3).first().actor_id
    if action == "stop":
        breakout_start(actor=operator, parent=parent, as_operator=True)
    before = (parent.breakout_rooms.count(), Conversation.objects.get(pk=parent.pk).breakout_room_status)

    with pytest.raises(CommandError, match=f"--actor: '{actor}' is not a moderator of {parent.token}"):
        breakout(action, parent.token, "--actor", actor)

    assert (parent.breakout_rooms.count(), Conversation.objects.get(pk=parent.pk).breakout_room_status) == before


def test_a_moderator_who_is_not_the_owner_may_act(make_parent: ParentMaker) -> None:
    parent = make_parent()
    AttendeeFactory(
        room=parent, user=UserFactory(username="cohost"), participant_type=Attendee.ParticipantType.MODERATOR
    )

    assert breakout("start", parent.token, "--actor", "cohost") == f"Started {parent.token} (as cohost).\n"


# --- honest messages --------------------------------------------------------------------------


def test_stop_and_remove_say_when_nothing_changed(make_parent: ParentMaker) -> None:
    parent = make_parent()

    assert breakout("stop", parent.token) == f"{parent.token} was already stopped; nothing changed.\n"
    breakout("start", parent.token)
    assert breakout("stop", parent.token) == f"Stopped {parent.token} (as the service itself).\n"
    assert breakout("remove", parent.token) == (
        f"Removed the breakout rooms of {parent.token} (as the service itself).\n"
    )
    assert breakout("remove", parent.token) == f"{parent.token} had no breakout rooms; nothing changed.\n"


def test_reimporting_an_export_reports_that_nobody_moved(make_parent: ParentMaker, tmp_path: Path) -> None:
    parent = make_parent(students=30, rooms=3)
    export = tmp_path / "export.csv"
    export.write_text(breakout("export", parent.token), encoding="utf-8")
    rows_before = set(Attendee.objects.filter(room__parent=parent).values_list("pk", flat=True))

    output = breakout("assign", parent.token, "--csv", str(export))

    assert output.endswith(": 0 moved, 30 already in their room.\n")
    assert set(Attendee.objects.filter(room__parent=parent).values_list("pk", flat=True)) == rows_before


def test_assign_counts_only_the_students_who_really_moved(make_parent: ParentMaker, tmp_path: Path) -> None:
    parent = make_parent(students=30, rooms=3)
    lines = breakout("export", parent.token).splitlines()
    rooms = parent.breakout_rooms.count()
    # Three students go to the next room; the other 27 lines are unchanged.
    changed = [f"{user},{int(room) % rooms + 1}" for user, room in (line.split(",") for line in lines[1:4])]
    path = tmp_path / "moves.csv"
    path.write_text("\n".join([lines[0], *changed, *lines[4:]]) + "\n", encoding="utf-8")

    output = breakout("assign", parent.token, "--csv", str(path))

    assert output.endswith(": 3 moved, 27 already in their room.\n")


# --- progress ---------------------------------------------------------------------------------


def test_progress_on_3000_students_goes_to_stderr_and_stdout_stays_the_result(tmp_path: Path) -> None:
    report, seeding = run("seed_demo", "--students", "3000", "--progress")
    token = report.splitlines()[-1]
    assert "3/3 done" in seeding
    assert "adding the attendees" in seeding
    breakout("configure", token, "--mode", "automatic", "--amount", "20")

    export, exporting = run("breakout", "export", token, "--progress")
    assert len(export.splitlines()) == 3001  # header + one line per student, no progress in it
    assert "export: 100%" in exporting and "3000/3000" in exporting

    path = tmp_path / "export.csv"
    path.write_text(export, encoding="utf-8")
    output, assigning = run("breakout", "assign", token, "--csv", str(path), "--progress")
    assert output.endswith(": 0 moved, 3000 already in their room.\n")
    assert "moving the students" in assigning and "3/3 done" in assigning


def test_no_progress_when_stderr_is_not_a_terminal_unless_asked(make_parent: ParentMaker) -> None:
    parent = make_parent()

    assert run("breakout", "export", parent.token)[1] == ""
    assert run("seed_demo", "--students", "2")[1] == ""
    assert run("seed_demo", "--students", "2", "--no-progress")[1] == ""


# --- appconfig and adduser --------------------------------------------------------------------


def test_appconfig_refuses_an_unknown_key_naming_the_known_ones(db: None) -> None:
    with pytest.raises(CommandError, match="Unknown app config key 'brekout_rooms'; known keys: breakout_rooms"):
        run("appconfig", "brekout_rooms", "no")
    with pytest.raises(CommandError, match="Unknown app config key"):
        run("appconfig", "brekout_rooms")
    assert not AppConfigValue.objects.exists()


def test_appconfig_refuses_a_bad_value_naming_the_allowed_ones(db: None) -> None:
    with pytest.raises(CommandError, match="'maybe' is not a value of breakout_rooms; allowed: yes, no"):
        run("appconfig", "breakout_rooms", "maybe")
    assert not AppConfigValue.objects.exists()
    assert run("appconfig", "breakout_rooms", "no")[0] == "no\n"


def test_appconfig_lists_the_keys_without_arguments(db: None) -> None:
    assert run("appconfig")[0] == "breakout_rooms = yes (allowed: yes, no)\n"


@pytest.mark.parametrize(
    ("password", "reason"),
    [("secret", "too short"), ("password123", "too common"), ("48213957602", "entirely numeric")],
)
def test_adduser_refuses_a_weak_password(db: None, monkeypatch: pytest.MonkeyPatch, password: str, reason: str) -> None:
    monkeypatch.setenv("USER_PASSWORD", password)

    with pytest.raises(CommandError, match=f"The password is refused: .*{reason}"):
        run("adduser", "frank", "--password-from-env")
    assert not User.objects.filter(username="frank").exists()
