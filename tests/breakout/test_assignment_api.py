"""The assignment extensions (issue 12): seed, constraints, fresh mixes, shuffle, dry runs and
the history of rounds, through the API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.models import User
from breakout.models import AssignmentSpan, BreakoutRound
from breakout.services import lifecycle
from conversations.models import Attendee, ChatMessage, Conversation
from tests.breakout.conftest import add_students, breakout_rooms
from tests.conftest import V1, ocs_data, ocs_error
from tests.helpers import EVENT_QUERIES

Client = Callable[[User], APIClient]


def post(client: APIClient, token: str, suffix: str = "", **params: Any) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}{suffix}", params, format="json")


def student_ids(parent: Conversation) -> list[int]:
    return list(
        Attendee.objects.filter(room=parent, participant_type=Attendee.ParticipantType.USER)
        .order_by("id")
        .values_list("pk", flat=True)
    )


def assignment(parent: Conversation) -> dict[int, str]:
    """Parent attendee id -> name of the breakout room the student is in."""
    by_actor = dict(
        Attendee.objects.filter(breakout_parent=parent, participant_type=Attendee.ParticipantType.USER).values_list(
            "actor_id", "room__name"
        )
    )
    return {
        pk: by_actor[actor]
        for pk, actor in Attendee.objects.filter(room=parent, participant_type=3).values_list("pk", "actor_id")
        if actor in by_actor
    }


def row_counts() -> tuple[int, ...]:
    return (
        Conversation.objects.count(),
        Attendee.objects.count(),
        ChatMessage.objects.count(),
        BreakoutRound.objects.count(),
        AssignmentSpan.objects.count(),
    )


# --- configure mode 1 with the new parameters -----------------------------------------------------


def test_the_same_seed_gives_the_same_assignment(client_for: Client, room: Conversation, owner: User) -> None:
    add_students(room, 11)
    client = client_for(owner)

    assert post(client, room.token, mode=1, amount=3, seed=42).status_code == 200
    first = assignment(room)
    assert client.delete(f"{V1}/breakout-rooms/{room.token}").status_code == 200
    assert post(client, room.token, mode=1, amount=3, seed=42).status_code == 200

    assert assignment(room) == first
    assert sorted(first) == student_ids(room)
    assert BreakoutRound.objects.filter(parent=room, seed=42).count() == 2


def test_keep_apart_and_keep_together_are_kept(client_for: Client, room: Conversation, owner: User) -> None:
    add_students(room, 9)
    ids = student_ids(room)
    apart, together = [ids[0], ids[1], ids[2]], [ids[3], ids[4]]

    response = post(
        client_for(owner),
        room.token,
        mode=1,
        amount=3,
        seed=1,
        keepApart=json.dumps([apart]),
        keepTogether=json.dumps([together]),
    )

    assert response.status_code == 200
    placed = assignment(room)
    assert len({placed[pk] for pk in apart}) == 3
    assert len({placed[pk] for pk in together}) == 1
    sizes = [list(placed.values()).count(name) for name in set(placed.values())]
    assert max(sizes) - min(sizes) <= 1


def test_spread_groups_spreads_a_group_over_the_rooms(client_for: Client, room: Conversation, owner: User) -> None:
    pupils = add_students(room, 8)
    team = Group.objects.create(name="team-a")
    for pupil in pupils[:4]:
        pupil.groups.add(team)

    response = post(client_for(owner), room.token, mode=1, amount=4, seed=3, spreadGroups=json.dumps(["team-a"]))

    assert response.status_code == 200
    by_actor = dict(Attendee.objects.filter(breakout_parent=room, participant_type=3).values_list("actor_id", "room"))
    assert len({by_actor[p.username] for p in pupils[:4]}) == 4


def test_infeasible_constraints_answer_400_with_the_ids_and_change_nothing(
    client_for: Client, room: Conversation, owner: User
) -> None:
    add_students(room, 4)
    ids = student_ids(room)
    before = row_counts()

    response = post(client_for(owner), room.token, mode=1, amount=2, keepApart=json.dumps([ids[:3]]))

    assert response.status_code == 400
    assert ocs_data(response) == {"error": "constraints", "attendeeIds": ids[:3]}
    assert row_counts() == before
    room.refresh_from_db()
    assert room.breakout_room_mode == 0


def test_unknown_attendee_ids_answer_400_constraints(client_for: Client, room: Conversation, owner: User) -> None:
    moderator_row = Attendee.objects.get(room=room, participant_type=2)

    response = post(
        client_for(owner), room.token, mode=1, amount=2, keepTogether=json.dumps([[999999, moderator_row.pk]])
    )

    assert response.status_code == 400
    assert ocs_data(response) == {"error": "constraints", "attendeeIds": sorted([999999, moderator_row.pk])}
    assert breakout_rooms(room) == []


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"seed": "x"}, "seed"),
        ({"seed": -1}, "seed"),
        ({"keepApart": "[1, 2]"}, "keepApart"),
        ({"keepApart": "{"}, "keepApart"),
        ({"keepTogether": "[[0]]"}, "keepTogether"),
        ({"spreadGroups": "[1]"}, "spreadGroups"),
        ({"strategy": "best"}, "strategy"),
        ({"dryRun": "maybe"}, "dryRun"),
    ],
)
def test_bad_assignment_parameters_answer_400_with_their_key(
    client_for: Client, room: Conversation, owner: User, params: dict[str, Any], key: str
) -> None:
    response = post(client_for(owner), room.token, mode=1, amount=2, **params)

    assert response.status_code == 400
    assert ocs_error(response) == key
    assert breakout_rooms(room) == []


def test_a_fresh_second_round_reports_repeated_pairs_in_a_header(
    client_for: Client, room: Conversation, owner: User
) -> None:
    add_students(room, 7)
    client = client_for(owner)
    first = post(client, room.token, mode=1, amount=2, seed=5)
    assert client.delete(f"{V1}/breakout-rooms/{room.token}").status_code == 200

    fresh = post(client, room.token, mode=1, amount=4, seed=5, strategy="fresh")

    assert "X-Breakout-Repeated-Pairs" not in first
    assert fresh.status_code == 200
    assert int(fresh["X-Breakout-Repeated-Pairs"]) >= 0
    assert BreakoutRound.objects.filter(parent=room, strategy="fresh").count() == 1


def test_a_configure_without_the_new_parameters_answers_like_talk(
    client_for: Client, room: Conversation, owner: User
) -> None:
    response = post(client_for(owner), room.token, mode=1, amount=2)

    assert response.status_code == 200
    assert "X-Breakout-Repeated-Pairs" not in response
    assert isinstance(ocs_data(response), list)
    assert BreakoutRound.objects.filter(parent=room, seed=None, strategy="").count() == 1


# --- dry runs --------------------------------------------------------------------------------------


def test_a_configure_dry_run_previews_and_changes_nothing(client_for: Client, room: Conversation, owner: User) -> None:
    add_students(room, 5)
    before = row_counts()

    response = post(client_for(owner), room.token, mode=1, amount=2, dryRun=True)

    assert response.status_code == 200
    body = ocs_data(response)
    assert body["dryRun"] is True
    assert [r["name"] for r in body["rooms"]] == ["Room 1", "Room 2"]
    assert sorted(pk for r in body["rooms"] for pk in r["attendeeIds"]) == student_ids(room)
    assert {(m["from"], m["to"] is not None) for m in body["moves"]} == {(None, True)}
    assert row_counts() == before
    room.refresh_from_db()
    assert room.breakout_room_mode == 0

    # The reported seed makes exactly the previewed assignment.
    assert post(client_for(owner), room.token, mode=1, amount=2, seed=body["seed"]).status_code == 200
    previewed = {pk: r["name"] for r in body["rooms"] for pk in r["attendeeIds"]}
    assert assignment(room) == previewed


def test_a_reorganize_dry_run_lists_the_moves_and_changes_nothing(
    client_for: Client, room: Conversation, owner: User, student: User
) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=2, attendee_map={})
    pk = Attendee.objects.get(room=room, user=student).pk
    before = row_counts()

    response = post(client_for(owner), room.token, "/attendees", attendeeMap=json.dumps({str(pk): 1}), dryRun=1)

    assert response.status_code == 200
    assert ocs_data(response)["moves"] == [{"attendeeId": pk, "actorId": "student", "from": None, "to": "Room 2"}]
    assert row_counts() == before


# --- shuffle ---------------------------------------------------------------------------------------


def test_shuffle_answers_an_outsider_404_and_a_student_403(
    client_for: Client, room: Conversation, owner: User, student: User, outsider: User
) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={})

    assert post(client_for(outsider), room.token, "/shuffle").status_code == 404
    assert post(client_for(student), room.token, "/shuffle").status_code == 403


def test_shuffle_needs_an_automatic_parent(client_for: Client, room: Conversation, owner: User) -> None:
    unconfigured = post(client_for(owner), room.token, "/shuffle")
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=2, attendee_map={})
    manual = post(client_for(owner), room.token, "/shuffle")

    assert (unconfigured.status_code, ocs_error(unconfigured)) == (400, "mode")
    assert (manual.status_code, ocs_error(manual)) == (400, "mode")


def test_shuffle_moves_only_those_whose_room_changes(client_for: Client, room: Conversation, owner: User) -> None:
    add_students(room, 9)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=3, attendee_map={})
    before = assignment(room)
    rows_before = dict(Attendee.objects.filter(breakout_parent=room, participant_type=3).values_list("actor_id", "pk"))

    preview = post(client_for(owner), room.token, "/shuffle", seed=7, dryRun=1)
    assert assignment(room) == before
    response = post(client_for(owner), room.token, "/shuffle", seed=7)

    assert response.status_code == 200
    after = assignment(room)
    assert after == {pk: r["name"] for r in ocs_data(preview)["rooms"] for pk in r["attendeeIds"]}
    moved = {pk for pk in after if after[pk] != before[pk]}
    assert {m["attendeeId"] for m in ocs_data(preview)["moves"]} == moved
    rows_after = dict(Attendee.objects.filter(breakout_parent=room, participant_type=3).values_list("actor_id", "pk"))
    assert {a for a in rows_after if rows_after[a] == rows_before[a]} == {
        a
        for a, pk in Attendee.objects.filter(room=room, participant_type=3).values_list("actor_id", "pk")
        if pk not in moved
    }
    assert AssignmentSpan.objects.filter(how="automatic", closed_at__isnull=True).count() == 10


def test_shuffle_with_infeasible_constraints_changes_nothing(
    client_for: Client, room: Conversation, owner: User
) -> None:
    add_students(room, 4)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={})
    before, counts = assignment(room), row_counts()

    response = post(client_for(owner), room.token, "/shuffle", keepApart=json.dumps([student_ids(room)[:3]]))

    assert (response.status_code, ocs_error(response)) == (400, "constraints")
    assert assignment(room) == before
    assert row_counts() == counts


# --- history ---------------------------------------------------------------------------------------


def history(client: APIClient, token: str, **params: Any) -> Any:
    return client.get(f"{V1}/breakout-rooms/{token}/history", params)


def test_history_answers_an_outsider_404_and_a_student_403(
    client_for: Client, room: Conversation, student: User, outsider: User
) -> None:
    assert history(client_for(outsider), room.token).status_code == 404
    assert history(client_for(student), room.token).status_code == 403


def test_history_is_complete_after_configure_switch_reorganize_stop_and_remove(
    client_for: Client, room: Conversation, owner: User, student: User
) -> None:
    pupil = add_students(room, 1)[0]
    client = client_for(owner)
    pk = Attendee.objects.get(room=room, user=student).pk
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=2, attendee_map={pk: 0})
    post(client, room.token, "/attendees", attendeeMap=json.dumps({str(pk): 1}))
    lifecycle.breakout_remove(actor=owner, parent=room)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=3, amount=2, attendee_map={})
    lifecycle.breakout_start(actor=owner, parent=room)
    tree = breakout_rooms(room)
    lifecycle.breakout_switch(actor=pupil, parent=room, target=tree[1].token)
    lifecycle.breakout_switch(actor=pupil, parent=room, target=tree[0].token)
    lifecycle.breakout_stop(actor=owner, parent=room)
    lifecycle.breakout_remove(actor=owner, parent=room)

    response = history(client, room.token)

    assert response.status_code == 200
    body = ocs_data(response)
    assert body["total"] == 2
    free, manual = body["rounds"]
    assert (manual["mode"], free["mode"]) == (2, 3)
    assert manual["startedAt"] is None and manual["removedAt"] is not None
    assert None not in (free["startedAt"], free["stoppedAt"], free["removedAt"])
    assert [(r["roomName"], r["how"], r["endedBy"]) for r in manual["people"][0]["rooms"]] == [
        ("Room 1", "manual", "reorganize"),
        ("Room 2", "reorganize", "round-end"),
    ]
    assert manual["people"][0]["userId"] == "student"
    assert [(r["roomName"], r["how"], r["endedBy"]) for r in free["people"][0]["rooms"]] == [
        ("Room 2", "switch", "switch"),
        ("Room 1", "switch", "round-end"),
    ]
    assert all(
        r["to"] is not None and r["seconds"] >= 0 for p in body["rounds"] for q in p["people"] for r in q["rooms"]
    )
    assert free["assistance"] == []


def test_history_filters_and_pages(client_for: Client, room: Conversation, owner: User, student: User) -> None:
    add_students(room, 2)
    for _ in range(3):
        lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={})
        lifecycle.breakout_remove(actor=owner, parent=room)
    rounds = list(BreakoutRound.objects.filter(parent=room).order_by("-id").values_list("pk", flat=True))
    client = client_for(owner)

    page = ocs_data(history(client, room.token, limit=2, offset=1))
    one = ocs_data(history(client, room.token, round=rounds[2], user="student"))
    bad = history(client, room.token, limit=0)

    assert (page["total"], [r["id"] for r in page["rounds"]]) == (3, rounds[1:3])
    assert [r["id"] for r in one["rounds"]] == [rounds[2]]
    assert [p["userId"] for p in one["rounds"][0]["people"]] == ["student"]
    assert (bad.status_code, ocs_error(bad)) == (400, "limit")


# --- query budgets ---------------------------------------------------------------------------------

SIZES = pytest.mark.parametrize(("students", "rooms"), [(5, 2), (300, 20)], ids=["small", "large"])


@SIZES
def test_history_query_count_does_not_grow(
    client_for: Client, room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    for _ in range(2):
        lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=rooms, attendee_map={})
        lifecycle.breakout_remove(actor=owner, parent=room)
    client = client_for(owner)

    # The caller's row (access check); COUNT rounds; the page of rounds with who configured them;
    # their spans; their assistance requests (with who asked and who claimed).
    with django_assert_num_queries(5):
        response = history(client, room.token)

    assert sum(len(r["people"]) for r in ocs_data(response)["rounds"]) == 2 * (students + 1)


@SIZES
def test_shuffle_query_count_does_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    from breakout.services.assignment import AssignmentOptions, breakout_shuffle

    add_students(room, students)
    lifecycle.breakout_configure(
        actor=owner, parent=room, mode=1, amount=rooms, attendee_map={}, assignment=AssignmentOptions(seed=0)
    )

    # Both seeds move somebody (a shuffle that moves nobody skips the writes).
    # SAVEPOINT; lock; the students of the parent; the caller's row; COUNT rooms; then a
    # reorganize: SAVEPOINT; lock; SELECT the caller's and mapped rows; app config; SELECT rooms;
    # their breakout rows; DELETE moved rows, INSERT user_removed, UPDATE last activity; INSERT new
    # rows, INSERT user_added, UPDATE last activity; close spans; open spans; RELEASE; RELEASE.
    with django_assert_num_queries(21 + EVENT_QUERIES):
        breakout_shuffle(actor=owner, parent=room, options=AssignmentOptions(seed=1))

    assert AssignmentSpan.objects.filter(how="automatic", closed_how="automatic").exists()


def test_capabilities_advertise_the_assignment_extension(client_for: Client, owner: User) -> None:
    response = client_for(owner).get("/ocs/v2.php/cloud/capabilities")

    assert "breakout-rooms-assignment" in ocs_data(response)["capabilities"]["spreed"]["features"]


@pytest.mark.parametrize(
    ("params", "key"), [({"since": -1}, "since"), ({"until": 10**20}, "until"), ({"offset": -1}, "offset")]
)
def test_history_refuses_bad_times_with_their_key(
    client_for: Client, room: Conversation, owner: User, params: dict[str, Any], key: str
) -> None:
    response = history(client_for(owner), room.token, **params)

    assert (response.status_code, ocs_error(response)) == (400, key)
