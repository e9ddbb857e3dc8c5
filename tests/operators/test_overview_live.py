"""The overview's live parts: the rows alone (``?fragment=1``) for the page's script, the staff
event stream it follows, the buttons that fit each parent's state, the assistance reset per room
and who is in which room. The browser side: test_overview_browser.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.models import User
from breakout.overview.stream import OVERVIEW_EVENTS, overview_event_stream
from breakout.services.lifecycle import assistance_request, breakout_start
from conversations.models import Conversation
from live.models import Event
from live.services import NewEvent, events_record_bulk
from tests.factories import UserFactory
from tests.operators.conftest import ParentMaker

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("admin:breakout_overview")
EVENTS = reverse("admin:breakout_overview_events")


def reset_url(room: Conversation) -> str:
    return reverse("admin:breakout_overview_room_action", args=[room.pk, "reset"])


def parent_section(page: str, parent: Conversation) -> str:
    start = page.index(f'id="parent-{parent.token}"')
    end = page.find('<div class="module breakout-parent', start + 1)
    return page[start : end if end != -1 else len(page)]


# --- the rows -------------------------------------------------------------------------------


def test_the_page_has_the_rows_the_stream_url_and_an_updated_at_time(
    operator_client: Client, make_parent: ParentMaker
) -> None:
    make_parent()

    page = operator_client.get(OVERVIEW).content.decode()

    assert f'data-stream="{EVENTS}"' in page
    assert 'id="breakout-overview-updated"' in page and "<time datetime=" in page
    assert "new EventSource(" in page


def test_the_fragment_is_the_rows_alone_of_the_same_page(operator_client: Client, make_parent: ParentMaker) -> None:
    parent = make_parent()

    response = operator_client.get(OVERVIEW, {"fragment": "1"})

    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment and "<script" not in fragment
    assert f'id="parent-{parent.token}"' in fragment
    assert 'id="breakout-overview-updated"' in fragment


def test_the_fragment_is_for_staff_only(client: Client, make_parent: ParentMaker) -> None:
    make_parent()
    client.force_login(UserFactory(username="not-staff"))

    response = client.get(OVERVIEW, {"fragment": "1"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_start_shows_only_when_stopped_and_stop_only_when_started(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    stopped, started = make_parent(), make_parent()
    breakout_start(actor=operator, parent=started, as_operator=True)

    page = operator_client.get(OVERVIEW).content.decode()

    stopped_section, started_section = parent_section(page, stopped), parent_section(page, started)
    assert 'name="start"' in stopped_section and 'name="stop"' not in stopped_section
    assert 'name="stop"' in started_section and 'name="start"' not in started_section
    for section, parent in ((stopped_section, stopped), (started_section, started)):
        # Remove is a link to the confirmation page, drawn as a dangerous button.
        remove = reverse("admin:breakout_overview_action", args=[parent.pk, "remove"])
        assert f'<a class="button breakout-remove" href="{remove}?page=1"' in section


def test_a_parent_whose_configuration_is_gone_has_no_buttons(operator_client: Client) -> None:
    from tests.factories import ConversationFactory

    parent = ConversationFactory()
    ConversationFactory(parent=parent)  # an orphan room keeps it on the page

    section = parent_section(operator_client.get(OVERVIEW).content.decode(), parent)

    assert 'name="start"' not in section and "breakout-remove" not in section


def test_the_names_in_each_room_are_listed_collapsed(operator_client: Client, make_parent: ParentMaker) -> None:
    parent = make_parent(students=3, rooms=2)
    first, second = parent.breakout_rooms.order_by("id")

    response = operator_client.get(OVERVIEW)

    page = response.content.decode()
    assert "<details open" not in page and page.count('<details class="breakout-people"') == 2
    rows = {row.room.pk: row for row in response.context["rows"][0].rooms}
    for breakout_room in (first, second):
        expected = set(breakout_room.attendees.values_list("display_name", flat=True))
        assert {person.display_name for person in rows[breakout_room.pk].people} == expected
        for name in expected:
            assert name in page
    assert rows[first.pk].people[0].participant_type == 1  # the owner (moderators first)
    assert "(moderator)" in page


# --- assistance reset -------------------------------------------------------------------------


def test_reset_button_shows_on_rooms_asking_and_resets_through_the_service(
    operator_client: Client, make_parent: ParentMaker, operator: User
) -> None:
    parent = make_parent(rooms=2)
    breakout_start(actor=operator, parent=parent, as_operator=True)
    asking, calm = parent.breakout_rooms.order_by("id")
    assistance_request(actor=operator, room=asking, as_operator=True)
    page = operator_client.get(OVERVIEW).content.decode()

    response = operator_client.post(reset_url(asking), {"page": "1"}, follow=True)

    assert reset_url(asking) in page and reset_url(calm) not in page
    asking.refresh_from_db()
    assert asking.breakout_room_status == Conversation.BreakoutStatus.STOPPED
    assert f"Reset the assistance request of 1 conversation(s): {asking.token}." in response.content.decode()
    assert reset_url(asking) not in response.content.decode()


def test_reset_refuses_get_parents_unknown_actions_and_viewers(client: Client, make_parent: ParentMaker) -> None:
    parent = make_parent()
    breakout_room = parent.breakout_rooms.first()
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    client.force_login(viewer)

    assert client.post(reset_url(breakout_room)).status_code == 403
    operator = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(operator)
    assert client.get(reset_url(breakout_room)).status_code == 405
    assert client.post(reset_url(parent)).status_code == 404
    assert (
        client.post(reverse("admin:breakout_overview_room_action", args=[breakout_room.pk, "boom"])).status_code == 404
    )


def test_reset_needs_a_csrf_token(operator: User, make_parent: ParentMaker) -> None:
    parent = make_parent()
    breakout_start(actor=operator, parent=parent, as_operator=True)
    asking = parent.breakout_rooms.first()
    assistance_request(actor=operator, room=asking, as_operator=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    assert client.post(reset_url(asking)).status_code == 403
    asking.refresh_from_db()
    assert asking.breakout_room_status == Conversation.BreakoutStatus.ASSISTANCE_REQUESTED


# --- the staff event stream -------------------------------------------------------------------


def _record(*events: NewEvent) -> list[Event]:
    with transaction.atomic():
        return events_record_bulk(events=list(events))


def _frames(body: str) -> list[tuple[int, dict[str, Any]]]:
    frames = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in lines and "id" in lines:
            frames.append((int(lines["id"]), json.loads(lines["data"])))
    return frames


def test_the_stream_is_for_staff_with_the_view_permission_only(client: Client) -> None:
    assert client.get(EVENTS).status_code == 403
    client.force_login(UserFactory(username="teacher-not-staff"))
    assert client.get(EVENTS).status_code == 403
    client.force_login(UserFactory(username="helpdesk", is_staff=True))
    assert client.get(EVENTS).status_code == 403
    inactive = UserFactory(username="gone", is_staff=True, is_superuser=True)
    client.force_login(inactive)
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    assert client.get(EVENTS).status_code in (302, 403)  # the session of an inactive user ends


def test_a_first_connection_starts_at_the_newest_event(operator_client: Client) -> None:
    [newest] = _record(NewEvent(type="breakout.started", token="aaaa"))

    response = operator_client.get(EVENTS)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    assert _frames(response.content.decode()) == [(newest.id, {})]


def test_a_reconnection_gets_the_breakout_events_since_and_nothing_else(operator_client: Client) -> None:
    [before] = _record(NewEvent(type="chat.message", token="aaaa"))
    started, _, assistance, _, joined, _ = _record(
        NewEvent(type="breakout.started", token="parent1", actor_id="teacher"),
        NewEvent(type="breakout.switchto", token="parent1", target_user_id="student1", payload={"target": "r1"}),
        NewEvent(type="breakout.assistance", token="room1", parent_token="parent1", payload={"status": 2}),
        NewEvent(type="chat.message", token="room1", parent_token="parent1", payload={"messageId": 5}),
        NewEvent(type="participants.changed", token="room1", parent_token="parent1"),
        NewEvent(type="participants.changed", token="plain", payload={"change": "added"}),
    )

    response = operator_client.get(EVENTS, headers={"Last-Event-ID": str(before.id)})

    assert _frames(response.content.decode()) == [
        (started.id, {"type": "breakout.started", "token": "parent1", "parentToken": None}),
        (assistance.id, {"type": "breakout.assistance", "token": "room1", "parentToken": "parent1"}),
        (joined.id, {"type": "participants.changed", "token": "room1", "parentToken": "parent1"}),
    ]
    assert Event.objects.filter(OVERVIEW_EVENTS).count() == 3


def test_the_asgi_stream_follows_the_breakout_events_until_its_deadline(db: None, settings: Any) -> None:
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    [before] = _record(NewEvent(type="chat.message", token="aaaa"))
    started, _ = _record(
        NewEvent(type="breakout.started", token="parent1"), NewEvent(type="chat.message", token="parent1")
    )

    async def read(seconds: float) -> str:
        stream = overview_event_stream(after=before.id, seconds=seconds)
        frames = []
        async for frame in stream:
            frames.append(frame)
            if frame == ": heartbeat\n\n":
                break
        await stream.aclose()
        return "".join(frames)

    followed = async_to_sync(read)(60)
    ended = async_to_sync(read)(0)  # past its deadline at once: it ends without reading

    assert followed.startswith("retry: 2000\n: breakout overview\n\n")
    assert _frames(followed) == [(started.id, {"type": "breakout.started", "token": "parent1", "parentToken": None})]
    assert ended == "retry: 2000\n: breakout overview\n\n"
