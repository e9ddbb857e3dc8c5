"""A breakout timer reaching its end with nobody making a request: a real ``manage.py
live_worker`` process stops the rooms within seconds (issue 11, ``breakout-rooms-timer``)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.conftest import postgres_url_of
from tests.live.test_worker import worker
from tests.servers import manage as _manage
from tests.servers import own_database

pytestmark = pytest.mark.e2e

SETUP = """
from datetime import timedelta
from django.db import transaction
from django.utils import timezone
from accounts.models import User
from breakout.services import lifecycle, timers
from conversations.models import Attendee, Conversation

teacher = User.objects.create_user(username="teacher", password="x" * 20)
pupil = User.objects.create_user(username="pupil", password="x" * 20)
parent = Conversation.objects.create(name="Class", type=2)
Attendee.objects.create(room=parent, user=teacher, actor_id="teacher", participant_type=1)
Attendee.objects.create(room=parent, user=pupil, actor_id="pupil", participant_type=3)
lifecycle.breakout_configure(actor=teacher, parent=parent, mode=1, amount=2, attendee_map={})
lifecycle.breakout_start(actor=teacher, parent=parent)
# A timer two seconds ahead (the API's minimum is a minute): the same write as PUT .../timer.
with transaction.atomic():
    locked = Conversation.objects.select_for_update().get(pk=parent.pk)
    now = timezone.now()
    timers._end_write(
        actor=teacher, parent=locked, ends_at=now + timedelta(seconds=2), now=now, message_key="breakout_timer_set"
    )
print(parent.pk, locked.breakout_ends_at.timestamp())
"""

WAIT = """
import json, time
from conversations.models import ChatMessage, Conversation

parent = Conversation.objects.get(pk={pk})
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    parent.refresh_from_db()
    if parent.breakout_room_status == 0:
        break
    time.sleep(0.05)
# When the stop happened: its system messages carry the time of the stop's transaction.
stopped = ChatMessage.objects.filter(room__parent=parent, system_message="breakout_rooms_stopped").first()
print(json.dumps({{
    "status": parent.breakout_room_status,
    "late": stopped.created_at.timestamp() - {ends_at} if stopped else None,
    "lobbies": sorted(set(Conversation.objects.filter(parent=parent).values_list("lobby_state", flat=True))),
    "messages": list(ChatMessage.objects.filter(room__parent=parent, system_message="breakout_timer_reached")
                     .values_list("actor_id", flat=True)),
}}))
"""


@pytest.fixture
def timer_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with own_database(postgres_url_of(settings.DATABASES["default"]), "timers", tmp_path) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "PYTEST_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="project.settings",
            DJANGO_SECRET_KEY="timers-secret-key-" + "x" * 40,
            DATABASE_URL=url,
            PYTHONUNBUFFERED="1",
        )
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        yield env


def test_the_worker_stops_the_rooms_within_seconds_of_the_end_with_no_request(timer_env: dict[str, str]) -> None:
    process = worker(timer_env)
    try:
        pk, ends_at = _manage(timer_env, "shell", "--no-imports", "-c", SETUP).strip().splitlines()[-1].split()
        code = WAIT.format(pk=pk, ends_at=ends_at)
        outcome = json.loads(_manage(timer_env, "shell", "--no-imports", "-c", code).splitlines()[-1])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    print("timer end to stop:", outcome["late"], "s")
    assert outcome["status"] == 0
    assert outcome["lobbies"] == [1]
    assert outcome["messages"] == ["teacher", "teacher"]
    # No request was made: the worker's job did it, at most 5 seconds after the end (never before).
    assert 0 <= outcome["late"] < 5, outcome
