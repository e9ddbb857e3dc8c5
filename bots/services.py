"""Every write of the bots app: installing and changing bots (the ``bot`` command), setting them
up in conversations (moderators, the command, breakout rooms inheriting their parent's bots) and
what bots do in a conversation (post, react, remove a reaction).

Conversation-side writes take the conversation's tree lock first, as every writer of a tree does,
and record their outbox events last. The Join/Leave webhooks are written as ``BotDelivery`` rows
in the transaction that sets the bot up or removes it, so they exist exactly when the change does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from bots.delivery import deliveries_create_for_room
from bots.models import Bot, BotConversation, BotDelivery, SeenRandom
from bots.signing import MIN_RANDOM_LENGTH, random_digest, signature_matches
from conversations.models import Attendee, ChatMessage, Conversation, Reaction
from conversations.services.chat import chat_comment_write
from conversations.services.chat_guards import visible_comment
from conversations.services.primitives import room_tree_lock
from conversations.services.reactions import reaction_counts_refresh, reaction_event_add, reaction_validate
from live.models import Event
from project.errors import BadRequest, Forbidden, NotFound, NotFoundInRoom, ServiceError

NAME_MAX = 64
SECRET_MIN, SECRET_MAX = 40, 128
URL_MAX = 4000
DESCRIPTION_MAX = 4000


class BotCommandError(Exception):
    """A refusal of the ``bot`` command, with Talk's exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Unauthenticated(ServiceError):
    """401 of the bot endpoints: no enabled bot of the conversation signed the request (wrong
    secret, wrong text, a replayed random, a bot without the response feature). Counts for the
    brute-force guard, as Talk throttles it."""

    status_code = 401
    counts_as_failure = True


def features_from_labels(labels: Iterable[str]) -> int:
    """Talk's featureLabelsToFlags: unknown labels are ignored, ``none`` clears everything."""
    by_label = {label: flag for flag, label in Bot.FEATURE_LABELS.items()}
    flags = 0
    for label in labels:
        label = label.strip()
        if label == "none":
            return Bot.FEATURE_NONE
        flags |= by_label.get(label, 0)
    return flags


def bot_parameters_validate(*, name: str, secret: str, url: str, description: str) -> None:
    """Talk's validateBotParameters, with its messages (exit code 1)."""
    if not 0 < len(name) <= NAME_MAX:
        raise BotCommandError("The provided name is too short or too long (min. 1 char, max. 64 chars)")
    if not SECRET_MIN <= len(secret) <= SECRET_MAX:
        raise BotCommandError("The provided secret is too short (min. 40 chars, max. 128 chars)")
    if not url or len(url) > URL_MAX or not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        raise BotCommandError("The provided URL is not a valid URL")
    if len(description) > DESCRIPTION_MAX:
        raise BotCommandError("The provided description is too long (max. 4000 chars)")


@transaction.atomic
def bot_install(
    *, name: str, secret: str, url: str, description: str = "", features: int | None = None, no_setup: bool = False
) -> Bot:
    """Install a bot (Talk's ``talk:bot:install``): enabled, or no-setup (moderators cannot set it
    up). The same URL twice is exit code 2, the same secret exit code 3."""
    bot_parameters_validate(name=name, secret=secret, url=url, description=description)
    url_hash = hashlib.sha1(url.encode()).hexdigest()
    if Bot.objects.filter(url_hash=url_hash).exists():
        raise BotCommandError("Bot with the same URL is already registered", code=2)
    if Bot.objects.filter(secret=secret).exists():
        raise BotCommandError("Bot with the same secret is already registered", code=3)
    try:
        with transaction.atomic():
            return Bot.objects.create(
                name=name,
                secret=secret,
                url=url,
                url_hash=url_hash,
                description=description,
                state=Bot.State.NO_SETUP if no_setup else Bot.State.ENABLED,
                features=Bot.FEATURE_WEBHOOK | Bot.FEATURE_RESPONSE if features is None else features,
            )
    except IntegrityError:  # installed by a concurrent command
        raise BotCommandError("Bot with the same URL or secret is already registered", code=2) from None


@transaction.atomic
def bot_state_set(*, bot_id: int, state: int, features: int | None = None) -> Bot:
    """Talk's ``talk:bot:state``: 0 disabled, 1 enabled, 2 no-setup; optionally new features."""
    if state not in Bot.State.values:
        raise BotCommandError("Provided state is invalid")
    bot = Bot.objects.select_for_update().filter(pk=bot_id).first()
    if bot is None:
        raise BotCommandError(f"Bot could not be found by id: {bot_id}")
    bot.state = state
    fields = ["state"]
    if features is not None:
        bot.features = features
        fields.append("features")
    bot.save(update_fields=fields)
    return bot


@transaction.atomic
def bot_uninstall(*, bot_id: int | None = None, url: str | None = None) -> None:
    """Talk's ``talk:bot:uninstall`` (by id, or by URL): the bot, its set-ups and its pending
    deliveries go."""
    queryset = Bot.objects.filter(pk=bot_id) if bot_id else Bot.objects.filter(url=url or "")
    deleted, _ = queryset.delete()
    if not deleted:
        raise BotCommandError("Bot not found")


def _join_leave_body(*, bot: Bot, room: Conversation, kind: str) -> str:
    return json.dumps(
        {
            "type": kind,
            "actor": {"type": "Application", "id": f"bots/{bot.actor_id}", "name": bot.name},
            "object": {"type": "Collection", "id": room.token, "name": room.name},
        }
    )


def _newest_event_id() -> int:
    return Event.objects.aggregate(newest=Max("id"))["newest"] or 0


@dataclass(frozen=True)
class SetupResult:
    created: bool
    bot: Bot


def _setup_in_locked_room(*, bot: Bot, room: Conversation, since: int) -> bool:
    """Set ``bot`` up in ``room`` (its tree locked by the caller) with its Join webhook; False
    when it already was."""
    if BotConversation.objects.filter(bot=bot, conversation=room).exists():
        return False
    BotConversation.objects.create(bot=bot, conversation=room, since_event_id=since)
    BotDelivery.objects.create(
        bot=bot, kind=BotDelivery.Kind.JOIN, token=room.token, body=_join_leave_body(bot=bot, room=room, kind="Join")
    )
    return True


@transaction.atomic
def bot_conversation_enable(*, room: Conversation, bot_id: int, moderator: Attendee | None = None) -> SetupResult:
    """Set a bot up in ``room`` (moderators: Talk's ``POST /bot/{token}/{botId}``; the command:
    ``setup``). Under the tree lock, so that no chat post of the room falls between the newest
    event read here and the set-up: the bot receives exactly the events after it. Moderators may
    only set up enabled bots (400 ``bot``) outside former one-to-one conversations (400 ``room``);
    the command may set up no-setup bots too."""
    room = room_tree_lock(room)
    if moderator is not None:
        _moderator_recheck(room=room, moderator=moderator)
        if room.type == Conversation.Type.FORMER_ONE_TO_ONE:
            raise BadRequest("room")
    bot = Bot.objects.filter(pk=bot_id).first()
    if bot is None or (moderator is not None and bot.state != Bot.State.ENABLED):
        raise BadRequest("bot")
    created = _setup_in_locked_room(bot=bot, room=room, since=_newest_event_id())
    return SetupResult(created=created, bot=bot)


@transaction.atomic
def bot_conversation_disable(*, room: Conversation, bot_id: int, moderator: Attendee | None = None) -> Bot:
    """Remove a bot from ``room`` (moderators: ``DELETE /bot/{token}/{botId}``, only enabled bots,
    else 400 ``bot``; the command: ``remove``) and queue its Leave webhook. Events of the room
    posted before the removal but not yet dispatched are still delivered: their deliveries are
    created here, before the set-up goes."""
    room = room_tree_lock(room)
    if moderator is not None:
        _moderator_recheck(room=room, moderator=moderator)
    bot = Bot.objects.filter(pk=bot_id).first()
    if bot is None or (moderator is not None and bot.state != Bot.State.ENABLED):
        raise BadRequest("bot")
    setup = BotConversation.objects.filter(bot=bot, conversation=room).first()
    if setup is None:
        return bot
    deliveries_create_for_room(bot=bot, setup=setup, room=room)
    setup.delete()
    BotDelivery.objects.create(
        bot=bot, kind=BotDelivery.Kind.LEAVE, token=room.token, body=_join_leave_body(bot=bot, room=room, kind="Leave")
    )
    return bot


def bots_inherit(*, rooms: Iterable[Conversation], parent: Conversation) -> int:
    """Breakout rooms just created below ``parent`` get the bots set up in it (our decision: a
    bot of the class hears its breakout rooms too), each with its Join webhook. Called by the
    creating service with the tree lock held; three queries whatever the number of rooms."""
    rooms = list(rooms)
    setups = list(BotConversation.objects.filter(conversation=parent).select_related("bot"))
    if not setups or not rooms:
        return 0
    since = _newest_event_id()
    BotConversation.objects.bulk_create(
        [BotConversation(bot=s.bot, conversation=room, since_event_id=since) for s in setups for room in rooms],
        ignore_conflicts=True,
    )
    BotDelivery.objects.bulk_create(
        [
            BotDelivery(
                bot=s.bot,
                kind=BotDelivery.Kind.JOIN,
                token=room.token,
                body=_join_leave_body(bot=s.bot, room=room, kind="Join"),
            )
            for s in setups
            for room in rooms
        ]
    )
    return len(setups) * len(rooms)


def _moderator_recheck(*, room: Conversation, moderator: Attendee) -> None:
    fresh = Attendee.objects.filter(pk=moderator.pk, room=room).values_list("participant_type", flat=True).first()
    if fresh is None:
        raise NotFound()
    if fresh not in Attendee.MODERATOR_TYPES:
        raise Forbidden()


# What bots do in a conversation -------------------------------------------------------------


def bot_authenticate(*, room: Conversation | None, random: str, given: str, text: str) -> Bot:
    """The bot set up in ``room`` (enabled, with the response feature) whose secret signed
    ``random`` + ``text``, as Talk's getBotFromHeaders: a missing or short random or a missing
    signature is 400; no such bot (an unknown room too) is 401. A random accepted within
    ``BOTS_REPLAY_WINDOW_SECONDS`` is refused (401): a captured request cannot be replayed."""
    if len(random) < MIN_RANDOM_LENGTH:
        raise BadRequest()
    if not given:
        raise BadRequest()
    if room is None:
        raise Unauthenticated()
    candidates = Bot.objects.filter(conversations__conversation=room).exclude(state=Bot.State.DISABLED)
    for bot in candidates:
        if bot.has(Bot.FEATURE_RESPONSE) and signature_matches(
            secret=bot.secret, random=random, text=text, given=given
        ):
            if not _random_claim(random):
                raise Unauthenticated()
            return bot
    raise Unauthenticated()


def _random_claim(random: str) -> bool:
    """Remember ``random``; False when it was already seen within the replay window."""
    now = timezone.now()
    window = timedelta(seconds=settings.BOTS_REPLAY_WINDOW_SECONDS)
    digest = random_digest(random)
    with transaction.atomic():
        SeenRandom.objects.filter(digest=digest, seen_at__lt=now - window).delete()
        try:
            with transaction.atomic():
                SeenRandom.objects.create(digest=digest, seen_at=now)
        except IntegrityError:
            return False
    return True


def _bot_room_lock(*, bot: Bot, room: Conversation) -> Conversation:
    """Lock ``room``'s tree and return the room read under the lock, where the bot is checked
    again: a bot removed or disabled while its request waited is 401."""
    room = room_tree_lock(room)
    active = (
        BotConversation.objects.filter(bot_id=bot.pk, conversation=room).exclude(bot__state=Bot.State.DISABLED).exists()
    )
    if not active:
        raise Unauthenticated()
    return room


@transaction.atomic
def bot_message_post(
    *, bot: Bot, room: Conversation, message: str, reply_to: int = 0, reference_id: str = "", silent: bool = False
) -> ChatMessage:
    """Post ``message`` into ``room`` as the bot (actor type ``bots``, actor id ``bot-<sha1 of its
    URL>``, display name ``<name> (Bot)``), as Talk's bot endpoint does: a reply to a message of
    another room or a system message is 400, an empty message 400, a too long one 413. Read-only
    conversations and lobbies do not apply to bots (as in Talk). ``silent`` is accepted; this
    service sends no notifications anyway."""
    room = _bot_room_lock(bot=bot, room=room)
    # A bot is no attendee: an unsaved row carries its name, and every attendee of the room is
    # "another" one for the mention markers.
    author = Attendee(actor_type="bots", actor_id=bot.actor_id, display_name=bot.display_name)
    return chat_comment_write(room=room, author=author, message=message, reply_to=reply_to, reference_id=reference_id)


@transaction.atomic
def bot_reaction_add(*, bot: Bot, room: Conversation, message_id: int, reaction: str) -> bool:
    """React as the bot to a comment of ``room``: True when added (201), False when the bot had
    already reacted so (200). Not an emoji, a system message or a message of another room: 400
    (Talk's ReactionOutOfContext)."""
    reaction = reaction_validate(reaction)
    room = _bot_room_lock(bot=bot, room=room)
    try:
        message = visible_comment(room=room, message_id=message_id, not_comment=BadRequest)
    except NotFoundInRoom:
        raise BadRequest() from None
    _, created = Reaction.objects.get_or_create(
        message=message,
        actor_type="bots",
        actor_id=bot.actor_id,
        reaction=reaction,
        defaults={"actor_display_name": bot.display_name},
    )
    if created:
        reaction_counts_refresh(message)
        reaction_event_add(room=room, actor_id=bot.actor_id, message_id=message.pk, reaction=reaction, added=True)
    return created


@transaction.atomic
def bot_reaction_remove(*, bot: Bot, room: Conversation, message_id: int, reaction: str) -> None:
    """Remove the bot's ``reaction`` from a comment of ``room``: 404 when the message is not a
    comment of the room or the bot had not reacted so (as Talk)."""
    room = _bot_room_lock(bot=bot, room=room)
    message = visible_comment(room=room, message_id=message_id)
    deleted, _ = Reaction.objects.filter(
        message=message, actor_type="bots", actor_id=bot.actor_id, reaction=reaction
    ).delete()
    if not deleted:
        raise NotFoundInRoom()
    reaction_counts_refresh(message)
    reaction_event_add(room=room, actor_id=bot.actor_id, message_id=message.pk, reaction=reaction, added=False)
