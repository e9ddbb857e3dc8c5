"""Talk's bot endpoints: moderators listing, setting up and removing bots; bots posting and
reacting with signed requests (docs/bots.md, features/chat-1/bots.feature)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from bots.models import Bot, BotConversation, BotDelivery
from conversations.models import ChatMessage, Conversation, Reaction
from conversations.services.chat import chat_message_post
from live.models import Event
from tests.bots.helpers import OTHER_SECRET, bot_post, bot_react, installed_bot, signed_headers
from tests.factories import AttendeeFactory, ChatMessageFactory, ConversationFactory
from tests.helpers import V1, ocs_data, ocs_error

ClientFor = Callable[[User], APIClient]
pytestmark = pytest.mark.django_db


def _set_up(bot: Bot, room: Conversation) -> None:
    BotConversation.objects.create(bot=bot, conversation=room)


def _post_as(room: Conversation, user: User, text: str) -> ChatMessage:
    return chat_message_post(attendee=room.attendees.get(user=user), message=text)


# --- moderators: list, set up, remove ---------------------------------------------------------


def test_listing_needs_a_login(anonymous_client: APIClient, room: Conversation) -> None:
    assert anonymous_client.get(f"{V1}/bot/{room.token}").status_code == 401


def test_listing_is_404_for_outsiders_and_403_for_students(
    client_for: ClientFor, room: Conversation, outsider: User, student: User
) -> None:
    assert client_for(outsider).get(f"{V1}/bot/{room.token}").status_code == 404
    assert client_for(student).get(f"{V1}/bot/{room.token}").status_code == 403


def test_moderators_see_every_bot_with_its_state_in_the_conversation(
    client_for: ClientFor, room: Conversation, moderator: User
) -> None:
    active = installed_bot(name="Active", description="Says hi")
    idle = installed_bot(name="Idle", secret=OTHER_SECRET, url="http://127.0.0.1:18398/idle")
    hidden = installed_bot(name="Hidden", secret="h" * 40, url="http://127.0.0.1:18397/h", no_setup=True)
    shown = installed_bot(name="Shown", secret="w" * 40, url="http://127.0.0.1:18396/w", no_setup=True)
    _set_up(active, room)
    _set_up(shown, room)

    response = client_for(moderator).get(f"{V1}/bot/{room.token}")

    assert response.status_code == 200
    assert ocs_data(response) == [
        {"id": active.pk, "name": "Active", "description": "Says hi", "state": 1},
        {"id": idle.pk, "name": "Idle", "description": None, "state": 0},
        {"id": shown.pk, "name": "Shown", "description": None, "state": 2},
    ]
    assert hidden.pk not in [bot["id"] for bot in ocs_data(response)]


@pytest.mark.parametrize("bots", [1, 6])
def test_listing_costs_the_same_queries_for_any_number_of_bots(
    client_for: ClientFor, room: Conversation, moderator: User, bots: int, django_assert_num_queries: Any
) -> None:
    for index in range(bots):
        _set_up(installed_bot(name=f"B{index}", secret=f"{index}" * 40, url=f"http://127.0.0.1:18300/{index}"), room)
    client = client_for(moderator)
    # the caller's attendee row, the set-up bot ids, the bots
    with django_assert_num_queries(3):
        assert client.get(f"{V1}/bot/{room.token}").status_code == 200


def test_a_moderator_sets_a_bot_up_once_and_it_gets_a_join(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    bot = installed_bot()
    client = client_for(owner)

    first = client.post(f"{V1}/bot/{room.token}/{bot.pk}")
    again = client.post(f"{V1}/bot/{room.token}/{bot.pk}")

    assert (first.status_code, again.status_code) == (201, 200)
    assert ocs_data(first) == {"id": bot.pk, "name": "Helper", "description": None, "state": 1}
    assert BotConversation.objects.filter(bot=bot, conversation=room).count() == 1
    join = BotDelivery.objects.get(bot=bot)
    assert join.kind == "Join"
    assert json.loads(join.body) == {
        "type": "Join",
        "actor": {"type": "Application", "id": f"bots/bot-{bot.url_hash}", "name": "Helper"},
        "object": {"type": "Collection", "id": room.token, "name": "Class"},
    }


def test_setting_up_is_403_for_students_and_404_for_outsiders(
    client_for: ClientFor, room: Conversation, student: User, outsider: User
) -> None:
    bot = installed_bot()
    assert client_for(student).post(f"{V1}/bot/{room.token}/{bot.pk}").status_code == 403
    assert client_for(outsider).post(f"{V1}/bot/{room.token}/{bot.pk}").status_code == 404
    assert not BotConversation.objects.exists()


@pytest.mark.parametrize("state", [Bot.State.DISABLED, Bot.State.NO_SETUP])
def test_moderators_cannot_set_up_a_bot_that_is_not_enabled(
    client_for: ClientFor, room: Conversation, owner: User, state: int
) -> None:
    bot = installed_bot()
    Bot.objects.filter(pk=bot.pk).update(state=state)
    response = client_for(owner).post(f"{V1}/bot/{room.token}/{bot.pk}")
    assert (response.status_code, ocs_error(response)) == (400, "bot")
    assert client_for(owner).post(f"{V1}/bot/{room.token}/999999").status_code == 400


def test_a_former_one_to_one_conversation_takes_no_bot(client_for: ClientFor, owner: User) -> None:
    room = ConversationFactory(type=Conversation.Type.FORMER_ONE_TO_ONE)
    AttendeeFactory(room=room, user=owner, participant_type=1)
    response = client_for(owner).post(f"{V1}/bot/{room.token}/{installed_bot().pk}")
    assert (response.status_code, ocs_error(response)) == (400, "room")


def test_a_moderator_removes_a_bot_and_it_gets_a_leave(
    client_for: ClientFor, room: Conversation, moderator: User
) -> None:
    bot = installed_bot()
    _set_up(bot, room)

    response = client_for(moderator).delete(f"{V1}/bot/{room.token}/{bot.pk}")

    assert response.status_code == 200
    assert ocs_data(response)["state"] == 0
    assert not BotConversation.objects.exists()
    assert list(BotDelivery.objects.values_list("kind", flat=True)) == ["Leave"]


def test_removing_a_no_setup_bot_is_refused(client_for: ClientFor, room: Conversation, owner: User) -> None:
    bot = installed_bot(no_setup=True)
    _set_up(bot, room)
    response = client_for(owner).delete(f"{V1}/bot/{room.token}/{bot.pk}")
    assert (response.status_code, ocs_error(response)) == (400, "bot")
    assert BotConversation.objects.filter(bot=bot).exists()


def test_removal_still_delivers_what_was_posted_before_it(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    bot = installed_bot()
    _set_up(bot, room)
    _post_as(room, owner, "before the removal")  # not yet dispatched by the worker

    client_for(owner).delete(f"{V1}/bot/{room.token}/{bot.pk}")

    assert list(BotDelivery.objects.order_by("id").values_list("kind", flat=True)) == ["Create", "Leave"]


def test_the_admin_list_is_for_superusers_only(client_for: ClientFor, operator: User, owner: User) -> None:
    bot = installed_bot(description="d")
    assert client_for(owner).get(f"{V1}/bot/admin").status_code == 403
    response = client_for(operator).get(f"{V1}/bot/admin")
    assert response.status_code == 200
    (listed,) = ocs_data(response)
    assert listed["url"] == bot.url and listed["features"] == 3 and "secret" not in listed


# --- bots: post a message ---------------------------------------------------------------------


def test_a_bot_posts_a_reply_that_appears_in_the_chat(
    anonymous_client: APIClient, client_for: ClientFor, room: Conversation, owner: User
) -> None:
    bot = installed_bot()
    _set_up(bot, room)
    question = _post_as(room, owner, "Message 1")

    response = bot_post(anonymous_client, room.token, "Response 1", replyTo=question.pk, referenceId="ref")

    assert response.status_code == 201
    chat = ocs_data(client_for(owner).get(f"{V1}/chat/{room.token}?lookIntoFuture=0"))
    newest = chat[0]
    assert (newest["actorType"], newest["actorId"], newest["actorDisplayName"], newest["message"]) == (
        "bots",
        f"bot-{bot.url_hash}",
        "Helper (Bot)",
        "Response 1",
    )
    assert newest["parent"]["id"] == question.pk
    assert newest["referenceId"] == "ref"
    event = Event.objects.filter(type="chat.message").latest("id")
    assert (event.actor_id, event.payload) == (f"bot-{bot.url_hash}", {"messageId": newest["id"]})


def test_a_wrong_secret_is_401_and_counts_for_the_guard(
    anonymous_client: APIClient, room: Conversation, settings: Any
) -> None:
    settings.BRUTEFORCE_PROTECTION = True
    settings.BRUTEFORCE_MAX_ATTEMPTS = 2
    _set_up(installed_bot(), room)

    first = bot_post(anonymous_client, room.token, "hi", secret=OTHER_SECRET)
    second = bot_post(anonymous_client, room.token, "hi", secret=OTHER_SECRET)
    blocked = bot_post(anonymous_client, room.token, "hi")  # right secret, but the address is blocked

    assert (first.status_code, second.status_code, blocked.status_code) == (401, 401, 429)
    assert not ChatMessage.objects.filter(actor_type="bots").exists()


def test_a_signature_over_other_text_is_401(anonymous_client: APIClient, room: Conversation) -> None:
    _set_up(installed_bot(), room)
    response = bot_post(anonymous_client, room.token, "pay 100", headers=signed_headers("pay 1"))
    assert response.status_code == 401


def test_a_replayed_request_is_401(anonymous_client: APIClient, room: Conversation) -> None:
    _set_up(installed_bot(), room)
    headers = signed_headers("hello")
    assert bot_post(anonymous_client, room.token, "hello", headers=headers).status_code == 201
    assert bot_post(anonymous_client, room.token, "hello", headers=headers).status_code == 401
    assert ChatMessage.objects.filter(actor_type="bots").count() == 1


def test_a_short_random_or_missing_signature_is_400(anonymous_client: APIClient, room: Conversation) -> None:
    _set_up(installed_bot(), room)
    short = signed_headers("hi", random="x" * 31)
    assert bot_post(anonymous_client, room.token, "hi", headers=short).status_code == 400
    unsigned = {"HTTP_X_NEXTCLOUD_TALK_BOT_RANDOM": "r" * 64}
    assert bot_post(anonymous_client, room.token, "hi", headers=unsigned).status_code == 400


def test_an_empty_message_is_400_before_the_signature(anonymous_client: APIClient, room: Conversation) -> None:
    assert bot_post(anonymous_client, room.token, "  ", secret=OTHER_SECRET).status_code == 400


def test_a_bot_of_another_conversation_or_an_unknown_one_is_401(
    anonymous_client: APIClient, room: Conversation
) -> None:
    other = ConversationFactory()
    _set_up(installed_bot(), other)
    assert bot_post(anonymous_client, room.token, "hi").status_code == 401
    assert bot_post(anonymous_client, "unknowntoken", "hi").status_code == 401


@pytest.mark.parametrize("state", [Bot.State.DISABLED])
def test_a_disabled_bot_or_one_without_the_response_feature_is_401(
    anonymous_client: APIClient, room: Conversation, state: int
) -> None:
    bot = installed_bot()
    _set_up(bot, room)
    Bot.objects.filter(pk=bot.pk).update(state=state)
    assert bot_post(anonymous_client, room.token, "hi").status_code == 401
    Bot.objects.filter(pk=bot.pk).update(state=Bot.State.ENABLED, features=Bot.FEATURE_WEBHOOK)
    assert bot_post(anonymous_client, room.token, "hi").status_code == 401


def test_a_reply_to_a_message_of_another_room_is_400(
    anonymous_client: APIClient, room: Conversation, owner: User
) -> None:
    other = ConversationFactory()
    AttendeeFactory(room=other, user=owner, participant_type=1)
    elsewhere = _post_as(other, owner, "elsewhere")
    _set_up(installed_bot(), room)
    response = bot_post(anonymous_client, room.token, "reply", replyTo=elsewhere.pk)
    assert response.status_code == 400


# --- bots: reactions --------------------------------------------------------------------------


def test_a_bot_reacts_and_removes_its_reaction(anonymous_client: APIClient, room: Conversation, owner: User) -> None:
    bot = installed_bot()
    _set_up(bot, room)
    message = _post_as(room, owner, "Message 1")

    added = bot_react(anonymous_client, room.token, message.pk, "👍")
    again = bot_react(anonymous_client, room.token, message.pk, "👍")
    message.refresh_from_db()
    counts = message.reactions
    removed = bot_react(anonymous_client, room.token, message.pk, "👍", method="delete")
    missing = bot_react(anonymous_client, room.token, message.pk, "👍", method="delete")

    assert (added.status_code, again.status_code, removed.status_code, missing.status_code) == (201, 200, 200, 404)
    assert counts == {"👍": 1}
    assert not Reaction.objects.exists()
    events = Event.objects.filter(type="chat.reaction").order_by("id")
    assert [e.payload for e in events] == [
        {"messageId": message.pk, "reaction": "👍", "added": True},
        {"messageId": message.pk, "reaction": "👍", "added": False},
    ]


def test_a_reaction_to_a_message_of_another_room_is_400_and_its_removal_404(
    anonymous_client: APIClient, room: Conversation, owner: User
) -> None:
    other = ConversationFactory()
    AttendeeFactory(room=other, user=owner, participant_type=1)
    elsewhere = _post_as(other, owner, "Message 1")
    _set_up(installed_bot(), room)
    assert bot_react(anonymous_client, room.token, elsewhere.pk, "👍").status_code == 400
    assert bot_react(anonymous_client, room.token, elsewhere.pk, "👍", method="delete").status_code == 404


def test_a_reaction_to_a_system_message_is_400_and_its_removal_404(
    anonymous_client: APIClient, room: Conversation, owner: User
) -> None:
    system = ChatMessageFactory(room=room, message_type=ChatMessage.Type.SYSTEM, system_message="user_added")
    _set_up(installed_bot(), room)
    assert bot_react(anonymous_client, room.token, system.pk, "👍").status_code == 400
    assert bot_react(anonymous_client, room.token, system.pk, "👍", method="delete").status_code == 404
    assert not Reaction.objects.exists()


def test_a_reaction_signed_by_another_secret_is_401(
    anonymous_client: APIClient, room: Conversation, owner: User
) -> None:
    _set_up(installed_bot(), room)
    message = _post_as(room, owner, "Message 1")
    assert bot_react(anonymous_client, room.token, message.pk, "👍", secret=OTHER_SECRET).status_code == 401


def test_a_reaction_that_is_no_emoji_is_400(anonymous_client: APIClient, room: Conversation, owner: User) -> None:
    _set_up(installed_bot(), room)
    message = _post_as(room, owner, "Message 1")
    assert bot_react(anonymous_client, room.token, message.pk, "abc").status_code == 400
