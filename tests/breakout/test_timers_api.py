"""Round timers and grace countdowns (issue 11, extension ``breakout-rooms-timer``): ``duration``
on start, ``PUT``/``DELETE .../timer``, ``grace`` on stop, ``breakoutRoomEndsAt``, the end applied
by the worker's job, by readers and by writers, warnings as ``breakout.timer`` events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from accounts.models import User
from breakout.models import BreakoutRound, BreakoutTimer
from breakout.services import lifecycle, timers
from breakout.tasks import breakout_timer_job
from conversations.models import ChatMessage, Conversation
from live.models import Event
from project.errors import BadRequest
from tests.breakout.conftest import add_students, breakout_rooms
from tests.concurrency import exceptions_of, run_together
from tests.conftest import V1, V4, ocs_data, ocs_error, requires_postgres
from tests.helpers import system_messages

Client = Callable[[User], APIClient]
SIZES = pytest.mark.parametrize(("students", "rooms"), [(4, 2), (40, 8)], ids=["small", "large"])


def start(client: APIClient, token: str, **params: Any) -> Any:
    return client.post(f"{V1}/breakout-rooms/{token}/rooms", params, format="json")


def stop(client: APIClient, token: str, **params: Any) -> Any:
    return client.delete(f"{V1}/breakout-rooms/{token}/rooms", params, format="json")


def timer_put(client: APIClient, token: str, **params: Any) -> Any:
    return client.put(f"{V1}/breakout-rooms/{token}/timer", params, format="json")


def timer_delete(client: APIClient, token: str) -> Any:
    return client.delete(f"{V1}/breakout-rooms/{token}/timer")


def ends_at(room: Conversation) -> int:
    room.refresh_from_db()
    return int(room.breakout_ends_at.timestamp()) if room.breakout_ends_at else 0


def tree_ends(parent: Conversation) -> set[int]:
    return {ends_at(parent), *(ends_at(r) for r in breakout_rooms(parent))}


def timer_events(parent: Conversation) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in Event.objects.filter(type="breakout.timer", token=parent.token).order_by("id")]


def end_passes(parent: Conversation, seconds_ago: int = 1) -> None:
    """Move the end of ``parent``'s timer into the past, as time passing would."""
    past = timezone.now() - timedelta(seconds=seconds_ago)
    Conversation.objects.filter(Q(pk=parent.pk) | Q(parent=parent)).update(breakout_ends_at=past)


def status(parent: Conversation) -> int:
    parent.refresh_from_db()
    return parent.breakout_room_status


@pytest.fixture
def timed(room: Conversation, moderator: User, configured: Callable[..., list]) -> Callable[..., list]:
    """Configure, then start with a timer set by ``moderator``."""

    def make(duration: int = 600, **options: Any) -> list[Conversation]:
        configured(**options)
        timers.breakout_start_timed(actor=moderator, parent=room, duration=duration)
        return breakout_rooms(room)

    return make


# -- start with a duration -----------------------------------------------------------------------


def test_start_with_a_duration_sets_the_end_on_the_parent_and_every_room(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    rooms = configured(amount=2)
    before = int(timezone.now().timestamp())

    response = start(client_for(owner), room.token, duration=600)

    assert response.status_code == 200
    body = ocs_data(response)
    assert {entry["breakoutRoomEndsAt"] for entry in body} == {ends_at(room)}
    assert before + 600 <= ends_at(room) <= before + 602
    assert tree_ends(room) == {ends_at(room)}
    assert status(room) == Conversation.BreakoutStatus.STARTED
    assert all(system_messages(r)[-1] == "breakout_timer_set" for r in rooms)
    assert timer_events(room) == [{"endsAt": ends_at(room), "secondsLeft": 600}]
    assert BreakoutTimer.objects.get(parent=room).set_by == owner
    assert BreakoutRound.objects.get(parent=room).timer_ends_at == room.breakout_ends_at
    # The worker's jobs: one at the 60-second warning, one at the end.
    jobs = DBTaskResult.objects.filter(task_path="breakout.tasks.breakout_timer_job").order_by("run_after")
    assert [int(job.run_after.timestamp()) for job in jobs] == [ends_at(room) - 60, ends_at(room)]


def test_start_without_a_duration_has_no_timer_and_shows_zero(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured(amount=2)

    response = start(client_for(owner), room.token)

    assert response.status_code == 200
    assert {entry["breakoutRoomEndsAt"] for entry in ocs_data(response)} == {0}
    assert tree_ends(room) == {0}
    assert timer_events(room) == []


@pytest.mark.parametrize("duration", [59, 86_401, 0, -60, "10m", 1.5, True, ""])
def test_start_refuses_a_bad_duration_and_starts_nothing(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list], duration: Any
) -> None:
    configured(amount=2)

    response = start(client_for(owner), room.token, duration=duration)

    assert response.status_code == 400
    assert ocs_error(response) == "duration"
    assert status(room) == Conversation.BreakoutStatus.STOPPED


def test_start_accepts_the_limits_of_the_duration_as_form_strings(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured(amount=1)

    response = client_for(owner).post(f"{V1}/breakout-rooms/{room.token}/rooms", {"duration": "86400"})

    assert response.status_code == 200
    assert ends_at(room) >= int(timezone.now().timestamp()) + 86_399


def test_start_with_a_duration_of_an_unconfigured_parent_is_400_mode(
    client_for: Client, room: Conversation, owner: User
) -> None:
    response = start(client_for(owner), room.token, duration=600)

    assert response.status_code == 400
    assert ocs_error(response) == "mode"
    assert tree_ends(room) == {0}


# -- PUT / DELETE timer: roles ------------------------------------------------------------------


@pytest.mark.parametrize("call", [lambda c, t: timer_put(c, t, duration=600), timer_delete])
def test_timer_requires_a_login(anonymous_client: APIClient, room: Conversation, call: Any) -> None:
    assert call(anonymous_client, room.token).status_code == 401


@pytest.mark.parametrize("call", [lambda c, t: timer_put(c, t, duration=600), timer_delete])
def test_timer_answers_an_outsider_404_and_a_student_403(
    client_for: Client, room: Conversation, outsider: User, student: User, timed: Callable[..., list], call: Any
) -> None:
    timed()
    before = tree_ends(room)

    assert call(client_for(outsider), room.token).status_code == 404
    assert call(client_for(student), room.token).status_code == 403
    assert tree_ends(room) == before


@pytest.mark.parametrize("call", [lambda c, t: timer_put(c, t, duration=600), timer_delete])
def test_timer_of_rooms_that_are_not_started_is_400_status(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list], call: Any
) -> None:
    configured(amount=2)

    response = call(client_for(owner), room.token)

    assert response.status_code == 400
    assert ocs_error(response) == "status"
    assert tree_ends(room) == {0}


def test_timer_of_an_unconfigured_conversation_is_400_status(
    client_for: Client, room: Conversation, owner: User
) -> None:
    response = timer_put(client_for(owner), room.token, duration=600)

    assert response.status_code == 400
    assert ocs_error(response) == "status"


@pytest.mark.parametrize("duration", [None, 59, 86_401, "x", 2.5, False])
def test_timer_put_refuses_a_bad_duration_and_changes_nothing(
    client_for: Client, room: Conversation, owner: User, timed: Callable[..., list], duration: Any
) -> None:
    timed()
    before = tree_ends(room)
    params = {} if duration is None else {"duration": duration}

    response = timer_put(client_for(owner), room.token, **params)

    assert response.status_code == 400
    assert ocs_error(response) == "duration"
    assert tree_ends(room) == before


# -- PUT / DELETE timer: extend, shorten, clear while running -----------------------------------


def test_a_moderator_extends_shortens_and_clears_a_running_timer(
    client_for: Client, room: Conversation, owner: User, moderator: User, timed: Callable[..., list]
) -> None:
    rooms = timed(duration=600)
    now = int(timezone.now().timestamp())

    extended = timer_put(client_for(owner), room.token, duration=3600)
    after_extend = tree_ends(room)
    shortened = timer_put(client_for(moderator), room.token, duration=120)
    after_shorten = tree_ends(room)
    cleared = timer_delete(client_for(owner), room.token)

    assert extended.status_code == shortened.status_code == cleared.status_code == 200
    assert len(after_extend) == 1 and now + 3600 <= after_extend.pop() <= now + 3602
    assert len(after_shorten) == 1 and now + 120 <= after_shorten.pop() <= now + 122
    assert tree_ends(room) == {0}
    assert {entry["breakoutRoomEndsAt"] for entry in ocs_data(cleared)} == {0}
    assert status(room) == Conversation.BreakoutStatus.STARTED
    assert [event["secondsLeft"] for event in timer_events(room)] == [600, 3600, 120, 0]
    assert timer_events(room)[-1] == {"endsAt": 0, "secondsLeft": 0}
    assert system_messages(rooms[0])[-4:] == [
        "breakout_timer_set",
        "breakout_timer_set",
        "breakout_timer_set",
        "breakout_timer_cleared",
    ]
    assert BreakoutTimer.objects.get(parent=room).set_by == moderator


def test_clearing_when_there_is_no_timer_changes_nothing(
    client_for: Client, room: Conversation, owner: User, started: Callable[..., list]
) -> None:
    rooms = started()
    messages = system_messages(rooms[0])

    response = timer_delete(client_for(owner), room.token)

    assert response.status_code == 200
    assert system_messages(rooms[0]) == messages
    assert timer_events(room) == []


def test_a_cleared_timer_does_not_fire_when_its_job_runs(
    room: Conversation, owner: User, timed: Callable[..., list]
) -> None:
    timed()
    timers.breakout_timer_clear(actor=owner, parent=room)

    assert breakout_timer_job.func(parent_id=room.pk) == "no timer"
    assert status(room) == Conversation.BreakoutStatus.STARTED


def test_the_parent_room_object_shows_the_end_to_a_student(
    client_for: Client, room: Conversation, student: User, timed: Callable[..., list]
) -> None:
    rooms = timed(mode=2, attendee_map="{}")
    from breakout.services.lifecycle import breakout_reorganize
    from tests.breakout.conftest import parent_attendee

    breakout_reorganize(
        actor=room.attendees.get(participant_type=1).user,
        parent=room,
        attendee_map={parent_attendee(room, student).pk: 1},
    )

    parent = ocs_data(client_for(student).get(f"{V4}/room/{room.token}"))
    own = ocs_data(client_for(student).get(f"{V4}/room/{rooms[1].token}"))

    assert parent["breakoutRoomEndsAt"] == own["breakoutRoomEndsAt"] == ends_at(room) > 0


# -- the end: by the worker, on read, on write --------------------------------------------------


def test_the_worker_job_stops_the_rooms_at_the_end_as_the_moderator_who_set_it(
    room: Conversation, moderator: User, timed: Callable[..., list]
) -> None:
    rooms = timed()
    end_passes(room)

    result = breakout_timer_job.func(parent_id=room.pk)

    assert result == "no timer"  # the lock applied the end; nothing left to do
    assert status(room) == Conversation.BreakoutStatus.STOPPED
    assert tree_ends(room) == {0}
    assert {r.lobby_state for r in breakout_rooms(room)} == {Conversation.Lobby.NON_MODERATORS}
    for breakout in rooms:
        assert system_messages(breakout)[-2:] == ["breakout_timer_reached", "breakout_rooms_stopped"]
        stopped = ChatMessage.objects.filter(room=breakout, system_message="breakout_rooms_stopped").get()
        assert stopped.actor_id == moderator.username
    assert BreakoutRound.objects.get(parent=room).stopped_at is not None


def test_the_enqueued_jobs_of_a_timer_run_by_the_worker_stop_the_rooms(
    room: Conversation, timed: Callable[..., list]
) -> None:
    """The worker's own way of running the queued rows (django-tasks-db's ``run_task``)."""
    from django_tasks_db.management.commands.db_worker import Worker

    timed()
    end_passes(room)
    DBTaskResult.objects.update(run_after=timezone.now() - timedelta(seconds=1))
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )

    # The worker's loop, one claim and run per ready row (its connection housekeeping left out:
    # the test's transaction holds the connection).
    for row in DBTaskResult.objects.ready().order_by("run_after"):
        row.claim(worker.worker_id)
        worker.run_task(row)

    assert status(room) == Conversation.BreakoutStatus.STOPPED
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_a_job_before_the_end_changes_nothing(room: Conversation, timed: Callable[..., list]) -> None:
    timed()

    assert breakout_timer_job.func(parent_id=room.pk) == "nothing due"
    assert status(room) == Conversation.BreakoutStatus.STARTED


def test_a_job_for_a_deleted_parent_does_nothing(room: Conversation, timed: Callable[..., list]) -> None:
    timed()
    pk = room.pk
    room.delete()

    assert breakout_timer_job.func(parent_id=pk) == "gone"


def test_a_request_reading_the_tree_after_the_end_sees_it_stopped(
    client_for: Client, room: Conversation, student: User, timed: Callable[..., list]
) -> None:
    timed()
    end_passes(room)

    response = client_for(student).get(f"{V4}/room/{room.token}")

    assert response.status_code == 200
    assert ocs_data(response)["breakoutRoomStatus"] == Conversation.BreakoutStatus.STOPPED
    assert ocs_data(response)["breakoutRoomEndsAt"] == 0
    assert status(room) == Conversation.BreakoutStatus.STOPPED


def test_the_room_list_after_the_end_shows_the_rooms_stopped(
    client_for: Client, room: Conversation, owner: User, timed: Callable[..., list]
) -> None:
    timed()
    end_passes(room)

    response = client_for(owner).get(f"{V4}/room")

    listed = {entry["token"]: entry for entry in ocs_data(response)}
    assert listed[room.token]["breakoutRoomStatus"] == Conversation.BreakoutStatus.STOPPED
    assert {listed[r.token]["lobbyState"] for r in breakout_rooms(room)} == {Conversation.Lobby.NON_MODERATORS}
    assert {entry["breakoutRoomEndsAt"] for entry in listed.values()} == {0}


def test_the_breakout_room_list_read_through_a_breakout_room_after_the_end_is_stopped(
    client_for: Client, room: Conversation, owner: User, timed: Callable[..., list]
) -> None:
    rooms = timed()
    end_passes(room)

    response = client_for(owner).get(f"{V4}/room/{rooms[0].token}")

    assert ocs_data(response)["lobbyState"] == Conversation.Lobby.NON_MODERATORS
    assert status(room) == Conversation.BreakoutStatus.STOPPED


def test_a_write_after_the_end_acts_on_the_stopped_tree(
    client_for: Client, room: Conversation, student: User, timed: Callable[..., list]
) -> None:
    rooms = timed(mode=3)
    end_passes(room)

    # The service alone (no request read the tree before it): the lock applies the end first,
    # then the switch finds the rooms stopped. Its rollback takes the stop with it; the end is
    # still there, so the next reader (or the worker) applies it again.
    with pytest.raises(BadRequest) as raised:
        lifecycle.breakout_switch(actor=student, parent=room, target=rooms[0].token)
    over_http = client_for(student).post(f"{V1}/breakout-rooms/{room.token}/switch", {"target": rooms[0].token})

    assert raised.value.key == "status"
    assert over_http.status_code == 400
    assert ocs_error(over_http) == "status"
    assert status(room) == Conversation.BreakoutStatus.STOPPED
    assert system_messages(rooms[0]).count("breakout_rooms_stopped") == 1


def test_a_manual_stop_after_the_end_and_the_job_stop_only_once(
    client_for: Client, room: Conversation, owner: User, timed: Callable[..., list]
) -> None:
    rooms = timed()
    end_passes(room)

    response = stop(client_for(owner), room.token)
    again = stop(client_for(owner), room.token)
    job = breakout_timer_job.func(parent_id=room.pk)

    assert response.status_code == again.status_code == 200
    assert job == "no timer"
    for breakout in rooms:
        assert system_messages(breakout).count("breakout_rooms_stopped") == 1
        assert system_messages(breakout).count("breakout_timer_reached") == 1


def test_a_manual_stop_before_the_end_leaves_the_job_nothing_to_do(
    client_for: Client, room: Conversation, owner: User, timed: Callable[..., list]
) -> None:
    rooms = timed()

    stop(client_for(owner), room.token)
    end_passes(room, seconds_ago=0)  # would be a stale end; the stop cleared it
    Conversation.objects.filter(Q(pk=room.pk) | Q(parent=room)).update(breakout_ends_at=None)
    result = breakout_timer_job.func(parent_id=room.pk)

    assert result == "no timer"
    assert tree_ends(room) == {0}
    assert "breakout_timer_reached" not in system_messages(rooms[0])


def test_a_stop_by_hand_clears_the_timer(
    client_for: Client, room: Conversation, owner: User, timed: Callable[..., list]
) -> None:
    timed()

    response = stop(client_for(owner), room.token)

    assert {entry["breakoutRoomEndsAt"] for entry in ocs_data(response)} == {0}
    assert tree_ends(room) == {0}
    assert breakout_timer_job.func(parent_id=room.pk) == "no timer"


def test_removing_the_rooms_clears_the_timer(
    client_for: Client, room: Conversation, owner: User, timed: Callable[..., list]
) -> None:
    timed()

    response = client_for(owner).delete(f"{V1}/breakout-rooms/{room.token}")

    assert ocs_data(response)["breakoutRoomEndsAt"] == 0
    assert ends_at(room) == 0


# -- warnings -----------------------------------------------------------------------------------


def test_the_job_sends_the_warning_at_the_lead_time_once(
    room: Conversation, settings: Any, timed: Callable[..., list]
) -> None:
    settings.BREAKOUT_TIMER_WARNINGS = [300, 60]
    timed(duration=600)
    soon = timezone.now() + timedelta(seconds=59)
    Conversation.objects.filter(Q(pk=room.pk) | Q(parent=room)).update(breakout_ends_at=soon)

    first = breakout_timer_job.func(parent_id=room.pk)
    second = breakout_timer_job.func(parent_id=room.pk)

    assert (first, second) == ("warned", "nothing due")
    events = timer_events(room)
    assert len(events) == 2  # the start, then one warning for both lead times passed
    assert events[-1]["endsAt"] == int(soon.timestamp())
    assert 57 <= events[-1]["secondsLeft"] <= 60
    assert status(room) == Conversation.BreakoutStatus.STARTED


def test_warnings_are_scheduled_for_each_lead_time_ahead(
    room: Conversation, settings: Any, timed: Callable[..., list]
) -> None:
    settings.BREAKOUT_TIMER_WARNINGS = [300, 60]
    timed(duration=120)  # the 300-second warning is already behind

    jobs = DBTaskResult.objects.filter(task_path="breakout.tasks.breakout_timer_job").order_by("run_after")

    assert [int(job.run_after.timestamp()) for job in jobs] == [ends_at(room) - 60, ends_at(room)]


def test_a_timer_event_reaches_every_attendee_of_the_tree(
    client_for: Client, room: Conversation, student: User, timed: Callable[..., list]
) -> None:
    from conversations.events_views import events_visible_to

    timed()

    visible = Event.objects.filter(events_visible_to(student), type="breakout.timer")

    assert visible.count() == 1


# -- grace countdown ----------------------------------------------------------------------------


def test_stop_with_grace_counts_down_then_the_rooms_close(
    client_for: Client, room: Conversation, owner: User, started: Callable[..., list]
) -> None:
    rooms = started()
    now = int(timezone.now().timestamp())

    response = stop(client_for(owner), room.token, grace=30)

    assert response.status_code == 200
    assert status(room) == Conversation.BreakoutStatus.STARTED
    assert {r.lobby_state for r in breakout_rooms(room)} == {Conversation.Lobby.NONE}
    assert now + 30 <= ends_at(room) <= now + 32
    assert {entry["breakoutRoomEndsAt"] for entry in ocs_data(response)} == {ends_at(room)}
    assert system_messages(rooms[0])[-1] == "breakout_grace_started"
    assert timer_events(room)[-1]["secondsLeft"] == 30
    assert BreakoutTimer.objects.get(parent=room).grace is True

    end_passes(room)
    breakout_timer_job.func(parent_id=room.pk)

    assert status(room) == Conversation.BreakoutStatus.STOPPED
    assert {r.lobby_state for r in breakout_rooms(room)} == {Conversation.Lobby.NON_MODERATORS}


def test_stop_with_grace_zero_stops_at_once(
    client_for: Client, room: Conversation, owner: User, started: Callable[..., list]
) -> None:
    started()

    response = stop(client_for(owner), room.token, grace=0)

    assert response.status_code == 200
    assert status(room) == Conversation.BreakoutStatus.STOPPED


def test_stop_with_grace_keeps_an_earlier_end(
    client_for: Client, room: Conversation, owner: User, timed: Callable[..., list]
) -> None:
    timed(duration=60)
    before = ends_at(room)

    stop(client_for(owner), room.token, grace=300)

    assert ends_at(room) == before


def test_stop_with_grace_of_stopped_rooms_stops_as_always(
    client_for: Client, room: Conversation, owner: User, configured: Callable[..., list]
) -> None:
    configured()

    response = stop(client_for(owner), room.token, grace=30)

    assert response.status_code == 200
    assert tree_ends(room) == {0}


@pytest.mark.parametrize("grace", [-1, 301, "soon", 1.5, True])
def test_stop_refuses_a_bad_grace_and_changes_nothing(
    client_for: Client, room: Conversation, owner: User, started: Callable[..., list], grace: Any
) -> None:
    started()

    response = stop(client_for(owner), room.token, grace=grace)

    assert response.status_code == 400
    assert ocs_error(response) == "grace"
    assert status(room) == Conversation.BreakoutStatus.STARTED
    assert tree_ends(room) == {0}


def test_stop_with_grace_answers_a_student_403_and_an_outsider_404(
    client_for: Client, room: Conversation, student: User, outsider: User, started: Callable[..., list]
) -> None:
    started()

    assert stop(client_for(student), room.token, grace=30).status_code == 403
    assert stop(client_for(outsider), room.token, grace=30).status_code == 404
    assert tree_ends(room) == {0}


def test_a_grace_countdown_can_be_cleared(
    client_for: Client, room: Conversation, owner: User, started: Callable[..., list]
) -> None:
    started()
    stop(client_for(owner), room.token, grace=60)

    timer_delete(client_for(owner), room.token)

    assert tree_ends(room) == {0}
    assert status(room) == Conversation.BreakoutStatus.STARTED


# -- query budgets ------------------------------------------------------------------------------


@SIZES
def test_timer_set_and_clear_query_counts_do_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=rooms, attendee_map={})
    lifecycle.breakout_start(actor=owner, parent=room)

    # SAVEPOINT; lock; the caller's row; UPDATE the tree's end; UPDATE who set it (the first
    # time it finds no row: INSERT); UPDATE the round; SELECT the rooms' ids and tokens; INSERT
    # system messages, UPDATE last activity; INSERT two jobs (warning, end); the events (the
    # messages' chat.message and breakout.timer, batched): advisory lock (PostgreSQL only),
    # INSERT; RELEASE.
    with django_assert_num_queries(timer_set_queries(first=True)):
        timers.breakout_timer_set(actor=owner, parent=room, duration=600)
    with django_assert_num_queries(timer_set_queries(first=False)):
        timers.breakout_timer_set(actor=owner, parent=room, duration=900)
    # SAVEPOINT; lock; the caller's row; UPDATE the tree's end; SELECT the rooms' ids and tokens;
    # INSERT system messages, UPDATE last activity; the events (one batch); RELEASE.
    with django_assert_num_queries(9 + postgres_extra()):
        timers.breakout_timer_clear(actor=owner, parent=room)

    assert tree_ends(room) == {0}


def postgres_extra() -> int:
    from django.db import connection

    return 1 if connection.vendor == "postgresql" else 0


def timer_set_queries(*, first: bool) -> int:
    return (14 if first else 13) + postgres_extra()


@SIZES
def test_start_timed_and_stop_graced_query_counts_do_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=rooms, attendee_map={})

    # SAVEPOINT; the start (lock, caller, SELECT rooms whose lobby changes, UPDATE rooms, INSERT
    # messages, UPDATE last activity, UPDATE round, UPDATE parent, SELECT the students' rooms) in
    # its SAVEPOINT/RELEASE; the timer's writes as in test_timer_set_and_clear_query_counts_do_not_grow;
    # the events of both (one batch: advisory lock on PostgreSQL, INSERT); RELEASE.
    with django_assert_num_queries(11 + timer_set_queries(first=True) - 2):
        timers.breakout_start_timed(actor=owner, parent=room, duration=600)
    timers.breakout_timer_clear(actor=owner, parent=room)
    # SAVEPOINT; lock; the caller's row; the timer's writes as above, with one job only (30 s is
    # less than the 60-second warning); RELEASE.
    with django_assert_num_queries(timer_set_queries(first=False) - 1):
        timers.breakout_stop_graced(actor=owner, parent=room, grace=30)

    assert status(room) == Conversation.BreakoutStatus.STARTED


@SIZES
def test_the_end_applied_by_the_job_query_count_does_not_grow(
    room: Conversation, owner: User, django_assert_num_queries: Callable, students: int, rooms: int
) -> None:
    add_students(room, students)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=rooms, attendee_map={})
    timers.breakout_start_timed(actor=owner, parent=room, duration=600)
    end_passes(room)

    # SAVEPOINT; lock; the timer with who set it; SELECT the rooms' ids and tokens; INSERT
    # timer_reached messages, UPDATE last activity; the stop (SAVEPOINT, lock, UPDATE parent,
    # UPDATE round, UPDATE assistance, SELECT rooms whose lobby changes, UPDATE rooms, INSERT
    # messages, UPDATE last activity, SELECT the students' rooms, RELEASE); the events of both
    # (one batch: advisory lock on PostgreSQL, INSERT); RELEASE.
    with django_assert_num_queries(19 + postgres_extra()):
        breakout_timer_job.func(parent_id=room.pk)

    assert status(room) == Conversation.BreakoutStatus.STOPPED


# -- racing a manual stop against the timer (PostgreSQL, real threads) --------------------------


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_manual_stop_racing_the_timer_stops_once(room: Conversation, owner: User, moderator: User) -> None:
    add_students(room, 6)
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=3, attendee_map={})
    for _ in range(3):
        timers.breakout_start_timed(actor=moderator, parent=room, duration=600)
        end_passes(room)

        results = run_together(
            [
                lambda: lifecycle.breakout_stop(actor=owner, parent=room),
                lambda: breakout_timer_job.func(parent_id=room.pk),
                lambda: breakout_timer_job.func(parent_id=room.pk),
            ]
        )

        assert not exceptions_of(results), results
        assert status(room) == Conversation.BreakoutStatus.STOPPED
        assert tree_ends(room) == {0}
    for breakout in breakout_rooms(room):
        assert system_messages(breakout).count("breakout_rooms_stopped") == 3
