"""The migration that gives parents configured before rounds existed an open round."""

from __future__ import annotations

import importlib

from django.apps import apps

from accounts.models import User
from breakout.models import AssignmentSpan, BreakoutRound
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation

migration = importlib.import_module("breakout.migrations.0001_initial")


def test_configured_parents_get_an_open_round_with_their_students_rooms(
    room: Conversation, owner: User, student: User
) -> None:
    pk = Attendee.objects.get(room=room, user=student).pk
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=2, attendee_map={pk: 1})
    BreakoutRound.objects.all().delete()  # as before the migration

    migration.open_rounds_of_configured_parents(apps, None)

    round_ = BreakoutRound.objects.get(parent=room, removed_at__isnull=True)
    assert (round_.mode, round_.amount) == (2, 2)
    assert list(AssignmentSpan.objects.values_list("actor_id", "attendee_id", "room_name", "how")) == [
        ("student", pk, "Room 2", "manual")
    ]
    # The lifecycle now records into it instead of failing.
    lifecycle.breakout_reorganize(actor=owner, parent=room, attendee_map={pk: 0})
    assert AssignmentSpan.objects.filter(closed_at__isnull=True).get().room_name == "Room 1"
