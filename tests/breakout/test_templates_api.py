"""Assignment templates (issue 12): save, list, apply (configure or reorganize), delete."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.test import APIClient

from accounts.models import User
from breakout.models import AssignmentTemplate
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation
from tests.breakout.conftest import add_students, breakout_rooms
from tests.conftest import V1, ocs_data, ocs_error
from tests.factories import AttendeeFactory, ConversationFactory

Client = Callable[[User], APIClient]


def url(token: str, suffix: str = "") -> str:
    return f"{V1}/breakout-rooms/{token}/templates{suffix}"


def where(parent: Conversation) -> dict[str, str]:
    return dict(
        Attendee.objects.filter(breakout_parent=parent, participant_type=3).values_list("actor_id", "room__name")
    )


def test_templates_answer_an_outsider_404_and_a_student_403(
    client_for: Client, room: Conversation, student: User, outsider: User
) -> None:
    for user, code in ((outsider, 404), (student, 403)):
        client = client_for(user)
        assert client.get(url(room.token)).status_code == code
        assert client.post(url(room.token), {"name": "x"}, format="json").status_code == code
        assert client.post(url(room.token, "/1/apply")).status_code == code
        assert client.delete(url(room.token, "/1")).status_code == code


def test_saving_needs_a_configured_parent_and_a_name(client_for: Client, room: Conversation, owner: User) -> None:
    unconfigured = client_for(owner).post(url(room.token), {"name": "x"}, format="json")
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={})
    nameless = client_for(owner).post(url(room.token), {}, format="json")

    assert (unconfigured.status_code, ocs_error(unconfigured)) == (400, "mode")
    assert (nameless.status_code, ocs_error(nameless)) == (400, "name")
    assert AssignmentTemplate.objects.count() == 0


def test_a_saved_template_configures_another_parent_and_reports_who_is_missing(
    client_for: Client, room: Conversation, owner: User, student: User
) -> None:
    add_students(room, 5)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=3, attendee_map={})
    saved = where(room)
    client = client_for(owner)

    created = client.post(url(room.token), {"name": "Week 1"}, format="json")
    assert created.status_code == 201
    template_id = ocs_data(created)["id"]
    assert {r["userId"]: r["room"] for r in ocs_data(created)["rows"]} == saved
    assert [t["name"] for t in ocs_data(client.get(url(room.token)))] == ["Week 1"]

    other = ConversationFactory(name="Other")
    AttendeeFactory(room=other, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    AttendeeFactory(room=other, user=student, participant_type=Attendee.ParticipantType.USER)
    applied = client.post(url(other.token, f"/{template_id}/apply"))

    assert applied.status_code == 200
    body = ocs_data(applied)
    assert body["configured"] is True
    assert sorted(body["missing"]) == sorted(a for a in saved if a != "student")
    assert where(other) == {"student": saved["student"]}
    assert len(breakout_rooms(other)) == 3


def test_applying_to_a_configured_parent_reorganizes_and_a_dry_run_changes_nothing(
    client_for: Client, room: Conversation, owner: User, student: User
) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=2, attendee_map={})
    rows = [{"userId": "student", "room": "Room 2"}, {"userId": "gone", "room": "Room 1"}]
    template = AssignmentTemplate.objects.create(owner=owner, name="t", rows=rows)
    client = client_for(owner)

    preview = client.post(url(room.token, f"/{template.pk}/apply"), {"dryRun": 1}, format="json")
    assert where(room) == {}
    applied = client.post(url(room.token, f"/{template.pk}/apply"))

    assert ocs_data(preview)["missing"] == ["gone"]
    assert ocs_data(preview)["moves"] == [
        {
            "attendeeId": Attendee.objects.get(room=room, user=student).pk,
            "actorId": "student",
            "from": None,
            "to": "Room 2",
        }
    ]
    assert applied.status_code == 200
    assert ocs_data(applied)["configured"] is False
    assert ocs_data(applied)["missing"] == ["gone"]
    assert where(room) == {"student": "Room 2"}


def test_a_template_naming_an_unknown_room_is_refused(client_for: Client, room: Conversation, owner: User) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=2, attendee_map={})
    template = AssignmentTemplate.objects.create(owner=owner, name="t", rows=[{"userId": "student", "room": "Nope"}])

    response = client_for(owner).post(url(room.token, f"/{template.pk}/apply"))

    assert (response.status_code, ocs_error(response)) == (400, "room")
    assert where(room) == {}


def test_someone_elses_template_is_404_and_delete_removes_ones_own(
    client_for: Client, room: Conversation, owner: User, moderator: User
) -> None:
    mine = AssignmentTemplate.objects.create(owner=owner, name="t", rows=[])
    client = client_for(moderator)

    assert client.post(url(room.token, f"/{mine.pk}/apply")).status_code == 404
    assert client.delete(url(room.token, f"/{mine.pk}")).status_code == 404
    assert client_for(owner).delete(url(room.token, f"/{mine.pk}")).status_code == 200
    assert not AssignmentTemplate.objects.exists()
