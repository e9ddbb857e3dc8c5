"""``manage.py bot``: Talk's ``occ talk:bot:*`` with its messages and exit codes
(features/chat-1/bots.feature)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bots.models import Bot, BotConversation, BotDelivery
from conversations.models import Conversation
from tests.bots.helpers import SECRET

pytestmark = pytest.mark.django_db
URL = "https://localhost/bot1"


def run(*args: str) -> str:
    out = StringIO()
    call_command("bot", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(*args: str) -> tuple[int, str]:
    with pytest.raises(CommandError) as error:
        run(*args)
    return error.value.returncode, str(error.value)


def test_install_with_talks_defaults() -> None:
    assert "Bot installed" in run("install", "Bot", SECRET, URL, "Says hi")
    bot = Bot.objects.get()
    assert (bot.name, bot.state, bot.features, bot.description) == ("Bot", 1, 3, "Says hi")
    assert bot.actor_id == "bot-" + __import__("hashlib").sha1(URL.encode()).hexdigest()


def test_install_refuses_bad_parameters_and_duplicates() -> None:
    assert refused("install", "", SECRET, URL) == (
        1,
        "The provided name is too short or too long (min. 1 char, max. 64 chars)",
    )
    assert refused("install", "Bot", "S3CR3T", URL)[0] == 1
    assert "not a valid URL" in refused("install", "Bot", SECRET, "U")[1]
    run("install", "Bot", SECRET, URL)
    assert refused("install", "Bot", SECRET, URL) == (2, "Bot with the same URL is already registered")
    assert refused("install", "Bot", SECRET, URL + "2") == (3, "Bot with the same secret is already registered")


def test_features_and_no_setup() -> None:
    run("install", "Bot", SECRET, URL, "--feature", "webhook", "--feature", "reaction", "--no-setup")
    bot = Bot.objects.get()
    assert (bot.features, bot.state) == (Bot.FEATURE_WEBHOOK | Bot.FEATURE_REACTION, Bot.State.NO_SETUP)
    assert run("state", str(bot.pk), "1", "-f", "none") == "Bot state set to 1 with features: none\n"
    bot.refresh_from_db()
    assert (bot.features, bot.state) == (0, 1)
    assert refused("state", str(bot.pk), "7") == (1, "Provided state is invalid")
    assert refused("state", "999", "1") == (1, "Bot could not be found by id: 999")


def test_setup_remove_and_list_by_conversation(room: Conversation) -> None:
    run("install", "Bot", SECRET, URL)
    bot = Bot.objects.get()
    assert refused("setup", "999", room.token) == (1, "Bot could not be found by id: 999")
    assert refused("setup", str(bot.pk), "invalidtoken")[0] == 2
    assert f"Successfully set up for conversation {room.token}" in run("setup", str(bot.pk), room.token)
    assert refused("setup", str(bot.pk), room.token)[0] == 3
    assert json.loads(run("list", room.token, "--output", "json"))[0]["name"] == "Bot"

    run("remove", str(bot.pk), room.token)
    assert not BotConversation.objects.exists()
    assert run("list", room.token, "--output", "json") == "[]\n"
    assert list(BotDelivery.objects.order_by("id").values_list("kind", flat=True)) == ["Join", "Leave"]


def test_list_shows_errors_and_failing_state(settings: object) -> None:
    run("install", "Bot", SECRET, URL)
    Bot.objects.update(error_count=7, consecutive_failures=5, last_error_message="UnexpectedStatusCode: 500")
    out = StringIO()
    call_command("bot", "list", "--output", "json", verbosity=2, stdout=out)
    (listed,) = json.loads(out.getvalue())
    assert listed["failing"] is True and listed["error_count"] == 7
    assert listed["last_error_message"] == "UnexpectedStatusCode: 500"
    assert "secret" not in listed
    assert "FAILING" in run("list")


def test_uninstall_by_id_or_url(room: Conversation) -> None:
    run("install", "Bot", SECRET, URL)
    run("setup", str(Bot.objects.get().pk), room.token)
    assert run("uninstall", "--url", URL) == "Bot uninstalled\n"
    assert not Bot.objects.exists() and not BotConversation.objects.exists()
    assert refused("uninstall", "5") == (1, "Bot not found")
