"""The admin shows bots with their failing state and never their secret."""

from __future__ import annotations

import pytest
from django.test import Client

from bots.models import Bot
from tests.bots.helpers import SECRET, installed_bot

pytestmark = pytest.mark.django_db


def test_the_bot_list_shows_failing_bots_and_filters_them(operator_client: Client, settings: object) -> None:
    healthy = installed_bot(name="Healthy")
    failing = installed_bot(name="Broken", secret="b" * 40, url="http://127.0.0.1:18399/broken")
    Bot.objects.filter(pk=failing.pk).update(consecutive_failures=5, last_error_message="UnexpectedStatusCode: 502")

    page = operator_client.get("/admin/bots/bot/")
    only_failing = operator_client.get("/admin/bots/bot/?failing=yes")

    assert page.status_code == 200
    assert b"Healthy" in page.content and b"Broken" in page.content
    assert f"/bots/bot/{failing.pk}/change/".encode() in only_failing.content
    assert f"/bots/bot/{healthy.pk}/change/".encode() not in only_failing.content
    detail = operator_client.get(f"/admin/bots/bot/{healthy.pk}/change/")
    assert detail.status_code == 200 and SECRET.encode() not in detail.content


def test_deliveries_and_set_ups_are_listed(operator_client: Client) -> None:
    assert operator_client.get("/admin/bots/botdelivery/").status_code == 200
    assert operator_client.get("/admin/bots/botconversation/").status_code == 200
