"""The admin shows breakout rounds and their spans read-only (issue 12)."""

from __future__ import annotations

from django.test import Client

from accounts.models import User
from breakout.models import BreakoutRound
from breakout.services import lifecycle
from conversations.models import Attendee, Conversation


def test_the_admin_shows_a_round_with_its_spans_read_only(
    client: Client, operator: User, room: Conversation, owner: User, student: User
) -> None:
    pk = Attendee.objects.get(room=room, user=student).pk
    lifecycle.breakout_configure(actor=owner, parent=room, mode=2, amount=2, attendee_map={pk: 1})
    round_ = BreakoutRound.objects.get(parent=room)
    client.force_login(operator)

    listing = client.get("/admin/breakout/breakoutround/")
    detail = client.get(f"/admin/breakout/breakoutround/{round_.pk}/change/")
    add = client.get("/admin/breakout/breakoutround/add/")
    posted = client.post(f"/admin/breakout/breakoutround/{round_.pk}/change/", {"mode": 3})

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert b"Room 2" in detail.content and b"student" in detail.content
    assert add.status_code == 403
    assert posted.status_code == 403
    round_.refresh_from_db()
    assert round_.mode == 2
