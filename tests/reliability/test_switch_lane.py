"""The switch lane (``project.admission``): under ASGI at most ``SWITCH_CONCURRENCY`` switch
requests of a process run at once, the others wait in arrival order, and every other request
(a moderator's start or stop) passes without waiting behind them.

The view is replaced by a coroutine that records who entered and waits until the test lets it
finish, so the assertions are on order and counts, never on timings.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, RequestFactory

from project.admission import SwitchLaneMiddleware, is_switch

SWITCH = "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/abc123/switch"
STOP = "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/abc123/rooms"


class View:
    """An async view: each request records its name on entry and returns when released."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.headers["X-Name"]
        self.entered.append(name)
        await self.release.setdefault(name, asyncio.Event()).wait()
        return HttpResponse(name)

    def let_go(self, name: str) -> None:
        self.release.setdefault(name, asyncio.Event()).set()


def request(method: str, path: str, name: str) -> HttpRequest:
    return RequestFactory().generic(method, path, headers={"X-Name": name})


async def settle() -> None:
    """Let every runnable task run until it waits (no timing: a bounded number of loop turns)."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_switch_requests_are_recognised_by_method_and_path() -> None:
    assert is_switch(request("POST", SWITCH, "a"))
    assert is_switch(request("POST", SWITCH.replace("v2.php", "v1.php") + "/", "a"))
    assert not is_switch(request("GET", SWITCH, "a"))
    assert not is_switch(request("POST", STOP, "a"))
    assert not is_switch(request("DELETE", STOP, "a"))


def test_switches_wait_in_arrival_order_and_other_requests_pass(settings: Any) -> None:
    settings.SWITCH_CONCURRENCY = 2

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        view = View()
        lane = SwitchLaneMiddleware(view.__call__)
        switches = [asyncio.ensure_future(lane(request("POST", SWITCH, f"s{n}"))) for n in range(5)]
        await settle()
        first = list(view.entered)  # two switches run, three wait
        stop = asyncio.ensure_future(lane(request("DELETE", STOP, "stop")))
        await settle()
        with_stop = list(view.entered)  # the stop is in although the lane is full
        view.let_go("stop")
        assert (await stop).content == b"stop"
        for n in range(5):
            view.let_go(f"s{n}")
            await settle()
        answers = [(await switch).content.decode() for switch in switches]
        return first, with_stop, answers + view.entered

    first, with_stop, rest = asyncio.run(scenario())

    assert first == ["s0", "s1"]
    assert with_stop == ["s0", "s1", "stop"]
    assert rest[:5] == ["s0", "s1", "s2", "s3", "s4"]
    assert rest[5:] == ["s0", "s1", "stop", "s2", "s3", "s4"]


def test_a_lane_of_width_zero_lets_every_switch_through(settings: Any) -> None:
    settings.SWITCH_CONCURRENCY = 0

    async def scenario() -> list[str]:
        view = View()
        lane = SwitchLaneMiddleware(view.__call__)
        switches = [asyncio.ensure_future(lane(request("POST", SWITCH, f"s{n}"))) for n in range(4)]
        await settle()
        entered = list(view.entered)
        for n in range(4):
            view.let_go(f"s{n}")
        await asyncio.gather(*switches)
        return entered

    assert asyncio.run(scenario()) == ["s0", "s1", "s2", "s3"]


def test_under_wsgi_the_lane_lets_the_request_through(settings: Any) -> None:
    settings.SWITCH_CONCURRENCY = 1
    lane = SwitchLaneMiddleware(lambda request: HttpResponse("done"))

    assert lane(request("POST", SWITCH, "a")).content == b"done"


@pytest.mark.django_db
def test_a_switch_through_the_asgi_handler_passes_the_lane(settings: Any) -> None:
    """Through Django's ASGI handler (``AsyncClient``) with a lane of width 1: the lane comes
    first in ``MIDDLEWARE`` and a switch behind it is answered as without it."""
    from accounts.services import app_password_create
    from breakout.services import lifecycle
    from conversations.models import Attendee, Conversation
    from tests.factories import AttendeeFactory, ConversationFactory, UserFactory
    from tests.reliability.client import basic_auth

    settings.SWITCH_CONCURRENCY = 1
    assert settings.MIDDLEWARE.index("project.admission.SwitchLaneMiddleware") < settings.MIDDLEWARE.index(
        "project.ocs.middleware.OCSMiddleware"
    )
    teacher, pupil = UserFactory(username="teacher"), UserFactory(username="pupil")
    parent = ConversationFactory(type=Conversation.Type.GROUP)
    AttendeeFactory(room=parent, user=teacher, participant_type=Attendee.ParticipantType.OWNER)
    AttendeeFactory(room=parent, user=pupil, participant_type=Attendee.ParticipantType.USER)
    lifecycle.breakout_configure(actor=teacher, parent=parent, mode=3, amount=2, attendee_map={})
    lifecycle.breakout_start(actor=teacher, parent=parent)
    target = Conversation.objects.filter(parent=parent).order_by("id").last()
    assert target is not None
    _, secret = app_password_create(user=pupil)

    async def switch() -> Any:
        client = AsyncClient(headers={"OCS-APIRequest": "true", "Accept": "application/json"})
        return await client.post(
            f"/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{parent.token}/switch",
            {"target": target.token},
            headers={"Authorization": basic_auth("pupil", secret)},
        )

    response = async_to_sync(switch)()

    assert response.status_code == 200, response.content
    assert response.json()["ocs"]["data"]["token"] == target.token
    assert Attendee.objects.get(breakout_parent=parent, user=pupil).room_id == target.pk
