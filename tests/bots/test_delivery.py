"""The worker's side: outbox events become deliveries (once per bot and event, only what Talk
delivers), deliveries are POSTed signed as Talk signs them, failures are retried with backoff and
mark a bot failing, a rolled-back post delivers nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bots.delivery import deliveries_dispatch, deliveries_send
from bots.models import Bot, BotConversation, BotDelivery, DispatchCursor
from bots.services import bot_conversation_enable, bot_message_post, bot_reaction_add
from bots.tasks import bots_deliver_job
from breakout.services.lifecycle import breakout_configure
from conversations.models import Conversation
from conversations.services.chat import chat_message_post
from conversations.services.lifecycle import breakout_room_create_extra
from conversations.services.reactions import reaction_add, reaction_remove
from conversations.services.room_settings import conversation_rename
from tests.bots.helpers import SECRET, installed_bot
from tests.bots.receiver import Receiver, receiving_bot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving_bot(SECRET) as bot_endpoint:
        yield bot_endpoint


@pytest.fixture
def bot(receiver: Receiver, room: Conversation, settings: Any) -> Bot:
    settings.BOTS_BACKEND_URL = "http://talk.example.org"
    settings.BOTS_DELIVERY_TIMEOUT_SECONDS = 2
    installed = installed_bot(
        url=receiver.url, features=Bot.FEATURE_WEBHOOK | Bot.FEATURE_RESPONSE | Bot.FEATURE_REACTION
    )
    bot_conversation_enable(room=room, bot_id=installed.pk)
    return installed


def _due_now() -> None:
    BotDelivery.objects.update(next_attempt_at=timezone.now())


def test_a_chat_message_reaches_the_bot_signed_in_talks_format(
    bot: Bot, receiver: Receiver, room: Conversation, owner: User
) -> None:
    attendee = room.attendees.get(user=owner)
    message = chat_message_post(attendee=attendee, message="Hello bot")

    bots_deliver_job.call()

    join, create = receiver.received
    assert join.json["type"] == "Join" and join.verified
    assert create.verified
    assert create.headers["X-Nextcloud-Talk-Backend"] == "http://talk.example.org/"
    assert len(create.headers["X-Nextcloud-Talk-Random"]) == 64
    assert create.headers["Content-Type"] == "application/json"
    assert create.json == {
        "type": "Create",
        "actor": {"type": "Person", "id": "users/owner", "name": attendee.display_name},
        "object": {
            "type": "Note",
            "id": str(message.pk),
            "name": "message",
            "content": json.dumps({"message": "Hello bot", "parameters": []}),
            "mediaType": "text/markdown",
        },
        "target": {"type": "Collection", "id": room.token, "name": "Class"},
    }
    delivery = BotDelivery.objects.get(kind="Create")
    assert create.headers["X-Breakout-Delivery-Id"] == str(delivery.pk)
    assert delivery.delivered_at is not None and delivery.attempts == 1


def test_a_reply_carries_the_message_it_answers(bot: Bot, receiver: Receiver, room: Conversation, owner: User) -> None:
    attendee = room.attendees.get(user=owner)
    question = chat_message_post(attendee=attendee, message="Question")
    chat_message_post(attendee=attendee, message="Answer", reply_to=question.pk)
    bots_deliver_job.call()
    reply = receiver.received[-1].json
    assert reply["object"]["inReplyTo"]["object"]["id"] == str(question.pk)
    assert reply["object"]["inReplyTo"]["actor"]["id"] == "users/owner"


def test_reactions_reach_bots_with_the_reaction_feature(
    bot: Bot, receiver: Receiver, room: Conversation, owner: User
) -> None:
    attendee = room.attendees.get(user=owner)
    message = chat_message_post(attendee=attendee, message="React to me")
    BotDelivery.objects.all().delete()
    assert reaction_add(attendee=attendee, message_id=message.pk, reaction="👍")
    bot_reaction_add(bot=bot, room=room, message_id=message.pk, reaction="🎉")  # a bot's own: not delivered
    reaction_remove(attendee=attendee, message_id=message.pk, reaction="👍")
    deliveries_dispatch()
    Bot.objects.filter(pk=bot.pk).update(features=Bot.FEATURE_WEBHOOK)
    reaction_add(attendee=attendee, message_id=message.pk, reaction="👀")  # the feature is gone meanwhile
    deliveries_dispatch()

    deliveries = list(BotDelivery.objects.order_by("id"))
    assert [d.kind for d in deliveries] == ["Create", "Like", "Undo"]
    like, undo = json.loads(deliveries[1].body), json.loads(deliveries[2].body)
    assert like == {
        "type": "Like",
        "actor": {"type": "Person", "id": "users/owner", "name": attendee.display_name},
        "object": json.loads(deliveries[0].body)["object"],
        "target": {"type": "Collection", "id": room.token, "name": "Class"},
        "content": "👍",
    }
    assert undo == {"type": "Undo", "actor": like["actor"], "object": like, "target": like["target"]}


def test_system_messages_and_the_bots_own_messages_are_not_delivered(
    bot: Bot, receiver: Receiver, room: Conversation, owner: User
) -> None:
    conversation_rename(actor=owner, room=room, name="Renamed")  # a system message
    bot_message_post(bot=bot, room=room, message="I am the bot")
    deliveries_dispatch()
    assert list(BotDelivery.objects.values_list("kind", flat=True)) == ["Join"]


def test_dispatch_twice_creates_each_delivery_once(bot: Bot, room: Conversation, owner: User) -> None:
    chat_message_post(attendee=room.attendees.get(user=owner), message="once")
    deliveries_dispatch()
    DispatchCursor.objects.update(last_event_id=0)  # as if the dispatcher crashed before moving its cursor
    deliveries_dispatch()
    assert BotDelivery.objects.filter(kind="Create").count() == 1


def test_messages_before_the_set_up_are_not_delivered(receiver: Receiver, room: Conversation, owner: User) -> None:
    chat_message_post(attendee=room.attendees.get(user=owner), message="before")
    late = installed_bot(url=receiver.url)
    bot_conversation_enable(room=room, bot_id=late.pk)
    deliveries_dispatch()
    assert list(BotDelivery.objects.values_list("kind", flat=True)) == ["Join"]


def test_a_rolled_back_post_delivers_nothing(bot: Bot, room: Conversation, owner: User) -> None:
    attendee = room.attendees.get(user=owner)
    with pytest.raises(RuntimeError), transaction.atomic():
        chat_message_post(attendee=attendee, message="never committed")
        raise RuntimeError("the request failed after the post")
    deliveries_dispatch()
    assert not BotDelivery.objects.filter(kind="Create").exists()


def test_a_failed_delivery_is_retried_with_backoff_until_it_succeeds(
    bot: Bot, receiver: Receiver, room: Conversation, owner: User, settings: Any
) -> None:
    settings.BOTS_RETRY_BASE_SECONDS = 5
    deliveries_send()  # the Join
    receiver.statuses = [500, 503]
    chat_message_post(attendee=room.attendees.get(user=owner), message="retry me")
    deliveries_dispatch()

    before = timezone.now()
    assert deliveries_send() == 0
    first = BotDelivery.objects.get(kind="Create")
    assert (first.attempts, first.last_error) == (1, "UnexpectedStatusCode: 500")
    assert first.next_attempt_at >= before + timedelta(seconds=5)
    assert deliveries_send() == 0  # not due yet: nothing sent

    _due_now()
    assert deliveries_send() == 0
    second = BotDelivery.objects.get(kind="Create")
    assert second.attempts == 2 and second.next_attempt_at >= timezone.now() + timedelta(seconds=9)

    _due_now()
    assert deliveries_send() == 1
    assert BotDelivery.objects.get(kind="Create").delivered_at is not None
    bodies = [r.body for r in receiver.received[1:]]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same body every time
    randoms = {r.headers["X-Nextcloud-Talk-Random"] for r in receiver.received[1:]}
    assert len(randoms) == 3 and all(r.verified for r in receiver.received)
    assert Bot.objects.get(pk=bot.pk).consecutive_failures == 0


def test_an_unreachable_bot_is_marked_failing_and_listed_so(room: Conversation, owner: User, settings: Any) -> None:
    settings.BOTS_FAILING_AFTER = 3
    settings.BOTS_DELIVERY_TIMEOUT_SECONDS = 1
    dead = installed_bot(url="http://127.0.0.1:18399/nobody-listens")
    bot_conversation_enable(room=room, bot_id=dead.pk)
    attendee = room.attendees.get(user=owner)
    for text in ("one", "two"):
        chat_message_post(attendee=attendee, message=text)
    deliveries_dispatch()

    deliveries_send()
    dead.refresh_from_db()
    assert (dead.consecutive_failures, dead.error_count) == (3, 3)
    assert dead.is_failing(3) and dead.last_error_message
    out = StringIO()
    call_command("bot", "list", stdout=out)
    assert "FAILING" in out.getvalue()
    assert BotDelivery.objects.filter(delivered_at__isnull=True).count() == 3  # kept for the retries


def test_a_delivery_is_abandoned_after_the_retry_window(bot: Bot, room: Conversation, settings: Any) -> None:
    Bot.objects.filter(pk=bot.pk).update(url="http://127.0.0.1:18399/gone")
    BotDelivery.objects.update(created_at=timezone.now() - timedelta(hours=settings.BOTS_RETRY_MAX_AGE_HOURS + 1))
    deliveries_send()
    assert BotDelivery.objects.get().abandoned_at is not None


def test_breakout_rooms_inherit_the_parents_bots(bot: Bot, room: Conversation, owner: User) -> None:
    breakout_configure(actor=owner, parent=room, mode=2, amount=2, attendee_map={})
    rooms = list(Conversation.objects.filter(parent=room).order_by("id"))
    assert set(BotConversation.objects.filter(bot=bot).values_list("conversation_id", flat=True)) == {
        room.pk,
        *(r.pk for r in rooms),
    }
    joins = [json.loads(d.body)["object"]["id"] for d in BotDelivery.objects.filter(kind="Join").order_by("id")]
    assert joins == [room.token, *(r.token for r in rooms)]


def test_an_extra_breakout_room_inherits_the_parents_bots(bot: Bot, room: Conversation, owner: User) -> None:
    breakout_configure(actor=owner, parent=room, mode=2, amount=1, attendee_map={})
    extra = breakout_room_create_extra(actor=owner, parent_token=room.token, name="Extra", object_type="room")
    assert BotConversation.objects.filter(bot=bot, conversation=extra).exists()
    assert BotDelivery.objects.filter(kind="Join", token=extra.token).count() == 1
