"""The worker's side of the bots: turning outbox events into deliveries (the dispatcher) and
sending them (signed POSTs with retries). Both run in ``bots.tasks.bots_deliver_job``, never in a
request.

Dispatch reads the outbox after a stored cursor, only the events of conversations that have a bot,
and creates one ``BotDelivery`` per (bot, event) (unique: a dispatch repeated after a crash creates
nothing twice). The cursor never passes an event that could still commit: on PostgreSQL events
become visible in id order (``live.services``), SQLite writers are serial.

Sending claims one due delivery at a time (a lease of the timeout plus a margin: a worker killed
mid-delivery leaves it claimed only that long, then any worker sends it again: at least once),
POSTs it, and records the outcome. A failure is retried with exponential backoff until
``BOTS_RETRY_MAX_AGE_HOURS`` after the delivery was created, then abandoned (visible in the admin).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from bots.models import Bot, BotConversation, BotDelivery, DispatchCursor, SeenRandom
from bots.signing import random_new, signature
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.presenters import message_payload
from live.models import Event

logger = logging.getLogger(__name__)

EVENT_TYPES = ("chat.message", "chat.reaction")
DISPATCH_BATCH = 500
SEND_BATCH = 200
SEND_SECONDS = 30.0  # a run stops claiming after this long; the next run goes on
DELIVERY_ID_HEADER = "X-Breakout-Delivery-Id"


# Bodies (Talk's ActivityStreams 2.0 formats, docs/bots.md) -------------------------------------


def _collection(room: Conversation) -> dict[str, Any]:
    return {"type": "Collection", "id": room.token, "name": room.name}


def _note(message: ChatMessage, room: Conversation) -> dict[str, Any]:
    shown = message_payload(message, room_token=room.token, viewer_actor_id=None)
    content = {"message": shown["message"], "parameters": shown.get("messageParameters") or []}
    return {
        "type": "Note",
        "id": str(message.pk),
        "name": "message",
        "content": json.dumps(content),
        "mediaType": "text/markdown",
    }


def _person(actor_type: str, actor_id: str, name: str) -> dict[str, Any]:
    return {"type": "Person", "id": f"{actor_type}/{actor_id}", "name": name}


def create_body(message: ChatMessage, room: Conversation) -> dict[str, Any]:
    note = _note(message, room)
    parent = message.reply_to
    if parent is not None and parent.message_type == ChatMessage.Type.COMMENT:
        note["inReplyTo"] = {
            "actor": _person(parent.actor_type, parent.actor_id, parent.actor_display_name),
            "object": _note(parent, room),
        }
    return {
        "type": "Create",
        "actor": _person(message.actor_type, message.actor_id, message.actor_display_name),
        "object": note,
        "target": _collection(room),
    }


def reaction_body(
    *, message: ChatMessage, room: Conversation, actor: dict[str, Any], reaction: str, added: bool
) -> dict[str, Any]:
    like = {
        "type": "Like",
        "actor": actor,
        "object": _note(message, room),
        "target": _collection(room),
        "content": reaction,
    }
    if added:
        return like
    return {"type": "Undo", "actor": actor, "object": like, "target": _collection(room)}


# Dispatch -------------------------------------------------------------------------------------


def _deliveries_for(events: list[Event], setups: list[BotConversation]) -> list[BotDelivery]:
    """The deliveries of ``events`` to the bots of ``setups``: chat comments to bots with the
    webhook feature (not system messages, not the bots' own messages, as Talk), reactions to bots
    with the reaction feature; each only to set-ups older than the event."""
    if not events or not setups:
        return []
    by_token: dict[str, list[BotConversation]] = defaultdict(list)
    for setup in setups:
        by_token[setup.conversation.token].append(setup)
    message_ids = {int(e.payload.get("messageId") or 0) for e in events}
    messages = ChatMessage.objects.select_related("reply_to").in_bulk([i for i in message_ids if i])
    reactors = {(e.token, e.actor_id) for e in events if e.type == "chat.reaction"}
    names: dict[tuple[str, str], tuple[str, str]] = {}
    if reactors:
        rows = Attendee.objects.filter(
            room__token__in={t for t, _ in reactors}, actor_id__in={a for _, a in reactors}
        ).values_list("room__token", "actor_type", "actor_id", "display_name")
        names = {(token, actor_id): (actor_type, name) for token, actor_type, actor_id, name in rows}
    bot_actor_ids = {bot.actor_id for bot in Bot.objects.all()}
    deliveries = []
    for event in events:
        message = messages.get(int(event.payload.get("messageId") or 0))
        if message is None or message.message_type != ChatMessage.Type.COMMENT or message.actor_type == "bots":
            continue
        if event.actor_id in bot_actor_ids:
            continue  # no bots for bots
        for setup in by_token.get(event.token, []):
            bot, room = setup.bot, setup.conversation
            if event.id <= setup.since_event_id or bot.state == Bot.State.DISABLED or message.room_id != room.pk:
                continue
            if event.type == "chat.message":
                if not bot.has(Bot.FEATURE_WEBHOOK):
                    continue
                kind, body = BotDelivery.Kind.CREATE, create_body(message, room)
            else:
                if not bot.has(Bot.FEATURE_REACTION):
                    continue
                actor_type, name = names.get((event.token, event.actor_id), (Attendee.ACTOR_USERS, event.actor_id))
                added = bool(event.payload.get("added"))
                kind = BotDelivery.Kind.LIKE if added else BotDelivery.Kind.UNDO
                body = reaction_body(
                    message=message,
                    room=room,
                    actor=_person(actor_type, event.actor_id, name),
                    reaction=str(event.payload.get("reaction", "")),
                    added=added,
                )
            deliveries.append(
                BotDelivery(bot=bot, event_id=event.id, kind=kind, token=room.token, body=json.dumps(body))
            )
    return deliveries


def _setups_for(tokens: Iterable[str]) -> list[BotConversation]:
    return list(
        BotConversation.objects.filter(conversation__token__in=set(tokens)).select_related("bot", "conversation")
    )


def deliveries_create_for_room(*, bot: Bot, setup: BotConversation, room: Conversation) -> int:
    """Create ``bot``'s deliveries of ``room``'s events that the dispatcher has not reached yet
    (called when the bot is removed from the room, under its tree lock, so they are not lost)."""
    cursor = DispatchCursor.objects.filter(pk=1).values_list("last_event_id", flat=True).first() or 0
    events = list(
        Event.objects.filter(token=room.token, id__gt=max(cursor, setup.since_event_id), type__in=EVENT_TYPES).order_by(
            "id"
        )
    )
    setup.bot, setup.conversation = bot, room
    created = BotDelivery.objects.bulk_create(_deliveries_for(events, [setup]), ignore_conflicts=True)
    return len(created)


@transaction.atomic
def deliveries_dispatch(*, limit: int = DISPATCH_BATCH) -> int:
    """Create the deliveries of the outbox events after the cursor (at most ``limit`` events of
    conversations with bots) and move the cursor; returns how many deliveries were created."""
    DispatchCursor.objects.get_or_create(pk=1)
    cursor = DispatchCursor.objects.select_for_update().get(pk=1)
    newest = Event.objects.aggregate(newest=Max("id"))["newest"] or 0
    if newest <= cursor.last_event_id:
        return 0
    with_bots = BotConversation.objects.values("conversation__token")
    events = list(
        Event.objects.filter(
            id__gt=cursor.last_event_id, id__lte=newest, type__in=EVENT_TYPES, token__in=with_bots
        ).order_by("id")[:limit]
    )
    through = events[-1].id if len(events) == limit else newest
    deliveries = _deliveries_for(events, _setups_for(e.token for e in events))
    created = BotDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    DispatchCursor.objects.filter(pk=1).update(last_event_id=through)
    return len(created)


# Sending --------------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer other than 2xx: a failure


_opener = urllib.request.build_opener(_NoRedirects)


def webhook_post(*, bot: Bot, body: str, delivery_id: int) -> None:
    """POST ``body`` to the bot, signed as Talk signs it; raises ``OSError`` (or a subclass) on
    a transport error or an answer other than 2xx."""
    random = random_new()
    data = body.encode()
    headers = {
        "Content-Type": "application/json",
        "X-Nextcloud-Talk-Random": random,
        "X-Nextcloud-Talk-Signature": signature(secret=bot.secret, random=random, text=data),
        "X-Nextcloud-Talk-Backend": settings.BOTS_BACKEND_URL.rstrip("/") + "/",
        "OCS-APIRequest": "true",
        DELIVERY_ID_HEADER: str(delivery_id),
    }
    request = urllib.request.Request(bot.url, data=data, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.BOTS_DELIVERY_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise OSError(f"UnexpectedStatusCode: {error.code}") from None
    if not 200 <= status < 300:
        raise OSError(f"UnexpectedStatusCode: {status}")


def retry_delay(attempts: int) -> timedelta:
    """After the ``attempts``-th failure: base * 2^(attempts-1), at most the maximum."""
    seconds = settings.BOTS_RETRY_BASE_SECONDS * 2 ** min(max(attempts - 1, 0), 20)
    return timedelta(seconds=min(seconds, settings.BOTS_RETRY_MAX_SECONDS))


def lease() -> timedelta:
    return timedelta(seconds=settings.BOTS_DELIVERY_TIMEOUT_SECONDS + 10)


@transaction.atomic
def delivery_claim() -> BotDelivery | None:
    """Take the oldest due delivery for one lease (``SKIP LOCKED``: several workers take
    different ones)."""
    now = timezone.now()
    delivery = (
        BotDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("bot")
        .filter(delivered_at__isnull=True, abandoned_at__isnull=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .first()
    )
    if delivery is None:
        return None
    BotDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + lease())
    return delivery


def delivery_send(delivery: BotDelivery) -> bool:
    """Send one claimed delivery and record the outcome; True when the bot took it."""
    bot = delivery.bot
    now = timezone.now()
    if bot.state == Bot.State.DISABLED:
        BotDelivery.objects.filter(pk=delivery.pk).update(abandoned_at=now, last_error="bot disabled")
        return False
    try:
        webhook_post(bot=bot, body=delivery.body, delivery_id=delivery.pk)
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections, bad answers
        error = str(getattr(exc, "reason", None) or exc) or exc.__class__.__name__
        attempts = delivery.attempts + 1
        too_old = now - delivery.created_at > timedelta(hours=settings.BOTS_RETRY_MAX_AGE_HOURS)
        with transaction.atomic():
            BotDelivery.objects.filter(pk=delivery.pk).update(
                attempts=attempts,
                last_error=error[:2000],
                next_attempt_at=now + retry_delay(attempts),
                abandoned_at=now if too_old else None,
            )
            Bot.objects.filter(pk=bot.pk).update(
                error_count=F("error_count") + 1,
                consecutive_failures=F("consecutive_failures") + 1,
                last_error_at=now,
                last_error_message=error[:2000],
            )
        logger.warning("Delivery #%s to bot #%s failed (attempt %s): %s", delivery.pk, bot.pk, attempts, error)
        return False
    with transaction.atomic():
        BotDelivery.objects.filter(pk=delivery.pk).update(
            attempts=delivery.attempts + 1, delivered_at=now, last_error=""
        )
        Bot.objects.filter(pk=bot.pk, consecutive_failures__gt=0).update(consecutive_failures=0)
    return True


def deliveries_send(*, limit: int = SEND_BATCH, seconds: float = SEND_SECONDS) -> int:
    """Send due deliveries, one claim at a time, for at most ``limit`` deliveries or ``seconds``;
    returns how many were delivered."""
    delivered = 0
    deadline = time.monotonic() + seconds
    for _ in range(limit):
        if time.monotonic() > deadline:
            break
        delivery = delivery_claim()
        if delivery is None:
            break
        delivered += delivery_send(delivery)
    return delivered


def bots_housekeeping() -> None:
    """Forget what is no longer needed: deliveries finished longer ago than the retry window
    and randoms that left the replay window."""
    now = timezone.now()
    old = now - timedelta(hours=settings.BOTS_RETRY_MAX_AGE_HOURS)
    BotDelivery.objects.filter(delivered_at__lt=old).delete()
    BotDelivery.objects.filter(abandoned_at__lt=old).delete()
    SeenRandom.objects.filter(seen_at__lt=now - timedelta(seconds=settings.BOTS_REPLAY_WINDOW_SECONDS)).delete()
    BotConversation.objects.exclude(conversation_id__in=Conversation.objects.values("id")).delete()
