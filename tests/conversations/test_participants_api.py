"""Participants: list, add (users and groups), remove, leave, promote and demote (normal rooms)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.models import User
from conversations.models import Attendee, Conversation
from tests.conversations.helpers import attendee_of
from tests.factories import AttendeeFactory, UserFactory
from tests.helpers import V4, ocs_data, ocs_error, system_messages

ClientFor = Callable[[User], APIClient]

PARTICIPANT_KEY_TYPES: dict[str, type] = {
    "roomToken": str,
    "inCall": int,
    "lastPing": int,
    "sessionIds": list,
    "participantType": int,
    "attendeeId": int,
    "actorType": str,
    "actorId": str,
    "displayName": str,
    "permissions": int,
    "attendeePermissions": int,
    "attendeePin": str,
    "phoneNumber": str,
    "callId": str,
}


def url(room: Conversation, suffix: str) -> str:
    return f"{V4}/room/{room.token}{suffix}"


# --- GET participants ---------------------------------------------------------------------------


def test_participants_list_holds_every_attendee_in_ascending_id_order_with_every_key(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    response = client_for(student).get(url(room, "/participants"))

    assert response.status_code == 200
    data = ocs_data(response)
    assert [p["actorId"] for p in data] == ["owner", "moderator", "student"]
    assert [p["attendeeId"] for p in data] == sorted(p["attendeeId"] for p in data)
    assert [p["participantType"] for p in data] == [1, 2, 3]
    for payload in data:
        assert set(payload) == set(PARTICIPANT_KEY_TYPES)
        assert all(isinstance(payload[key], kind) for key, kind in PARTICIPANT_KEY_TYPES.items())
        assert payload["roomToken"] == room.token


def test_participants_list_with_include_status_adds_the_status_keys(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    response = client_for(student).get(url(room, "/participants"), {"includeStatus": "true"})

    assert {"status", "statusIcon", "statusMessage", "statusClearAt"} <= set(ocs_data(response)[0])


def test_participants_list_rejects_a_non_boolean_include_status(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    response = client_for(student).get(url(room, "/participants"), {"includeStatus": "maybe"})

    assert response.status_code == 400
    assert ocs_error(response) == "includeStatus"


def test_participants_list_applies_the_lobby_rule_to_students_only(
    client_for: ClientFor, room: Conversation, student: User, moderator: User
) -> None:
    Conversation.objects.filter(pk=room.pk).update(lobby_state=Conversation.Lobby.NON_MODERATORS)

    held = client_for(student).get(url(room, "/participants"))
    allowed = client_for(moderator).get(url(room, "/participants"))

    assert held.status_code == 412
    assert ocs_data(held) == []
    assert allowed.status_code == 200


@pytest.mark.parametrize("extra", [2, 60])
def test_participants_list_query_count_does_not_grow_with_the_room(
    client_for: ClientFor, room: Conversation, student: User, extra: int, django_assert_num_queries: Any
) -> None:
    Attendee.objects.bulk_create(
        Attendee(room=room, actor_id=user.username, user=user, participant_type=3)
        for user in User.objects.bulk_create(User(username=f"p{i}") for i in range(extra))
    )
    client = client_for(student)

    # 1 the caller's attendee row with room and parent; 2 the room's attendee rows.
    with django_assert_num_queries(2):
        response = client.get(url(room, "/participants"))

    assert len(ocs_data(response)) == 3 + extra


# --- POST participants ----------------------------------------------------------------------------


def test_add_participant_adds_a_user_as_type_3_with_user_added(
    client_for: ClientFor, room: Conversation, owner: User, outsider: User
) -> None:
    response = client_for(owner).post(url(room, "/participants"), {"newParticipant": "outsider"})

    assert response.status_code == 200
    assert attendee_of(room, outsider).participant_type == 3
    assert system_messages(room) == ["user_added"]


def test_add_participant_twice_keeps_one_row(client_for: ClientFor, room: Conversation, owner: User) -> None:
    response = client_for(owner).post(url(room, "/participants"), {"newParticipant": "student", "source": "users"})

    assert response.status_code == 200
    assert Attendee.objects.filter(room=room, actor_id="student").count() == 1
    assert system_messages(room) == []


def test_add_group_adds_every_member_not_yet_in_the_room(
    client_for: ClientFor, room: Conversation, owner: User, student: User
) -> None:
    members = [UserFactory(username=f"member{i}") for i in range(3)]
    group = Group.objects.create(name="class-b")
    group.user_set.add(student, *members)

    response = client_for(owner).post(url(room, "/participants"), {"newParticipant": "class-b", "source": "groups"})

    assert response.status_code == 200
    assert list(Attendee.objects.filter(room=room).order_by("id").values_list("actor_id", "participant_type")) == [
        ("owner", 1),
        ("moderator", 2),
        ("student", 3),
        ("member0", 3),
        ("member1", 3),
        ("member2", 3),
    ]
    assert system_messages(room) == ["user_added"] * 3


@pytest.mark.parametrize(
    ("params", "status", "key"),
    [
        ({}, 400, "new-participant"),
        ({"newParticipant": "nobody"}, 404, "new-participant"),
        ({"newParticipant": "nogroup", "source": "groups"}, 404, "new-participant"),
        ({"newParticipant": "outsider", "source": "emails"}, 400, "source"),
    ],
)
def test_add_participant_rejects_bad_input(
    client_for: ClientFor,
    room: Conversation,
    owner: User,
    outsider: User,
    params: dict[str, str],
    status: int,
    key: str,
) -> None:
    response = client_for(owner).post(url(room, "/participants"), params)

    assert response.status_code == status
    assert ocs_error(response) == key
    assert Attendee.objects.filter(room=room).count() == 3


def test_add_participant_to_a_one_to_one_room_is_refused(
    client_for: ClientFor, owner: User, student: User, outsider: User
) -> None:
    token = ocs_data(client_for(owner).post(f"{V4}/room", {"roomType": 1, "invite": "student"}))["token"]

    response = client_for(owner).post(f"{V4}/room/{token}/participants", {"newParticipant": "outsider"})

    assert response.status_code == 400
    assert ocs_error(response) == "type"


# --- DELETE attendees -----------------------------------------------------------------------------


def test_remove_attendee_deletes_the_row_and_posts_user_removed(
    client_for: ClientFor, room: Conversation, moderator: User, student: User
) -> None:
    attendee_id = attendee_of(room, student).pk

    response = client_for(moderator).delete(url(room, "/attendees"), {"attendeeId": attendee_id})

    assert response.status_code == 200
    assert not Attendee.objects.filter(pk=attendee_id).exists()
    assert system_messages(room) == ["user_removed"]


def test_remove_attendee_refuses_to_remove_the_owner(
    client_for: ClientFor, room: Conversation, moderator: User, owner: User
) -> None:
    response = client_for(moderator).delete(url(room, "/attendees"), {"attendeeId": attendee_of(room, owner).pk})

    assert response.status_code == 403
    assert Attendee.objects.filter(room=room, user=owner).exists()


@pytest.mark.parametrize(("attendee_id", "status"), [(None, 400), ("abc", 400), (999999, 404)])
def test_remove_attendee_rejects_missing_bad_and_unknown_ids(
    client_for: ClientFor, room: Conversation, owner: User, attendee_id: Any, status: int
) -> None:
    params = {} if attendee_id is None else {"attendeeId": attendee_id}

    response = client_for(owner).delete(url(room, "/attendees"), params)

    assert response.status_code == status
    if status == 400:
        assert ocs_error(response) == "attendeeId"
    assert Attendee.objects.filter(room=room).count() == 3


def test_remove_attendee_of_another_room_is_404(client_for: ClientFor, room: Conversation, owner: User) -> None:
    elsewhere = AttendeeFactory()

    response = client_for(owner).delete(url(room, "/attendees"), {"attendeeId": elsewhere.pk})

    assert response.status_code == 404
    assert Attendee.objects.filter(pk=elsewhere.pk).exists()


# --- DELETE participants/self ---------------------------------------------------------------------


def test_a_student_leaving_is_recorded_as_user_removed_by_themselves(
    client_for: ClientFor, room: Conversation, student: User
) -> None:
    response = client_for(student).delete(url(room, "/participants/self"))

    assert response.status_code == 200
    assert not Attendee.objects.filter(room=room, user=student).exists()
    assert system_messages(room) == ["user_removed"]


def test_the_last_moderator_cannot_leave_while_others_remain(
    client_for: ClientFor, room: Conversation, owner: User, moderator: User
) -> None:
    client_for(owner).delete(url(room, "/moderators"), {"attendeeId": attendee_of(room, moderator).pk})

    response = client_for(owner).delete(url(room, "/participants/self"))

    assert response.status_code == 400
    assert ocs_error(response) == "last-moderator"
    assert Attendee.objects.filter(room=room, user=owner).exists()


def test_one_of_two_moderators_may_leave(client_for: ClientFor, room: Conversation, owner: User) -> None:
    response = client_for(owner).delete(url(room, "/participants/self"))

    assert response.status_code == 200
    assert list(Attendee.objects.filter(room=room).values_list("actor_id", flat=True)) == ["moderator", "student"]


def test_the_last_user_leaving_deletes_the_conversation(client_for: ClientFor, owner: User) -> None:
    room = Conversation.objects.create(name="Alone")
    AttendeeFactory(room=room, user=owner, participant_type=1)

    response = client_for(owner).delete(url(room, "/participants/self"))

    assert response.status_code == 200
    assert not Conversation.objects.filter(pk=room.pk).exists()


# --- moderators -----------------------------------------------------------------------------------


def test_promote_and_demote_change_the_type_and_post_system_messages(
    client_for: ClientFor, room: Conversation, owner: User, student: User
) -> None:
    attendee_id = attendee_of(room, student).pk
    client = client_for(owner)

    promoted = client.post(url(room, "/moderators"), {"attendeeId": attendee_id})
    type_after_promotion = Attendee.objects.get(pk=attendee_id).participant_type
    demoted = client.delete(url(room, "/moderators"), {"attendeeId": attendee_id})

    assert (promoted.status_code, demoted.status_code) == (200, 200)
    assert type_after_promotion == 2
    assert Attendee.objects.get(pk=attendee_id).participant_type == 3
    assert system_messages(room) == ["moderator_promoted", "moderator_demoted"]


@pytest.mark.parametrize(
    ("method", "actor_name", "target_name", "status"),
    [
        ("post", "owner", "moderator", 400),  # already a moderator
        ("delete", "owner", "student", 400),  # not a moderator
        ("delete", "moderator", "owner", 403),  # owners cannot be demoted
        ("post", "moderator", "owner", 400),  # already has moderator permissions
        ("delete", "moderator", "moderator", 403),  # nobody changes their own type
    ],
)
def test_promote_and_demote_follow_talks_refusals(
    client_for: ClientFor, room: Conversation, method: str, actor_name: str, target_name: str, status: int
) -> None:
    actor, target = User.objects.get(username=actor_name), User.objects.get(username=target_name)
    before = list(Attendee.objects.filter(room=room).order_by("id").values_list("participant_type", flat=True))

    response = getattr(client_for(actor), method)(
        url(room, "/moderators"), {"attendeeId": attendee_of(room, target).pk}
    )

    assert response.status_code == status
    assert list(Attendee.objects.filter(room=room).order_by("id").values_list("participant_type", flat=True)) == before
    assert system_messages(room) == []


@pytest.mark.parametrize(("attendee_id", "status"), [(None, 400), ("1.5", 400), (999999, 404)])
def test_promote_rejects_missing_bad_and_unknown_attendee_ids(
    client_for: ClientFor, room: Conversation, owner: User, attendee_id: Any, status: int
) -> None:
    params = {} if attendee_id is None else {"attendeeId": attendee_id}

    response = client_for(owner).post(url(room, "/moderators"), params)

    assert response.status_code == status
    if status == 400:
        assert ocs_error(response) == "attendeeId"


def test_demote_reads_the_attendee_id_from_the_query_string_like_talks_web_client(
    client_for: ClientFor, room: Conversation, owner: User, moderator: User
) -> None:
    attendee_id = attendee_of(room, moderator).pk

    response = client_for(owner).delete(f"{url(room, '/moderators')}?attendeeId={attendee_id}")

    assert response.status_code == 200
    assert Attendee.objects.get(pk=attendee_id).participant_type == 3
