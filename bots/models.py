"""Talk's webhook bots: the bots the operator installed (``Bot``, Talk's ``BotServer``), the
conversations they are set up in (``BotConversation``) and the deliveries of webhooks to them
(``BotDelivery``, written by the worker from the event outbox or, for Join/Leave, by the service
that sets a bot up or removes it, in its transaction)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from conversations.models import Conversation


class Bot(models.Model):
    class State(models.IntegerChoices):
        DISABLED = 0, "disabled"
        ENABLED = 1, "enabled"
        NO_SETUP = 2, "no-setup"

    FEATURE_NONE = 0
    FEATURE_WEBHOOK = 1
    FEATURE_RESPONSE = 2
    FEATURE_EVENT = 4
    FEATURE_REACTION = 8
    FEATURE_LABELS = {
        FEATURE_WEBHOOK: "webhook",
        FEATURE_RESPONSE: "response",
        FEATURE_EVENT: "event",
        FEATURE_REACTION: "reaction",
    }

    name = models.CharField(max_length=64, help_text="Messages are posted as “<name> (Bot)”.")
    url = models.CharField(max_length=4000, help_text="The webhook endpoint (http or https).")
    url_hash = models.CharField(
        max_length=40, unique=True, help_text="sha1 of the URL; the bot's actor id is bot-<url_hash>."
    )
    secret = models.CharField(
        max_length=128, unique=True, help_text="Shared secret of the signatures (40 to 128 characters)."
    )
    description = models.TextField(blank=True, max_length=4000)
    state = models.PositiveSmallIntegerField(choices=State.choices, default=State.ENABLED)
    features = models.PositiveSmallIntegerField(default=FEATURE_WEBHOOK | FEATURE_RESPONSE)
    error_count = models.PositiveIntegerField(default=0, help_text="Failed delivery attempts, ever (as Talk counts).")
    consecutive_failures = models.PositiveIntegerField(default=0, help_text="Failed attempts since the last success.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=[0, 1, 2]), name="bot_state_valid"),
            models.CheckConstraint(condition=Q(features__lte=15), name="bot_features_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (#{self.id})"

    @property
    def actor_id(self) -> str:
        return f"bot-{self.url_hash}"

    @property
    def display_name(self) -> str:
        return f"{self.name} (Bot)"

    def has(self, feature: int) -> bool:
        return bool(self.features & feature)

    def is_failing(self, threshold: int) -> bool:
        return self.consecutive_failures >= threshold

    @classmethod
    def feature_labels(cls, features: int) -> str:
        if not features:
            return "none"
        return ", ".join(label for flag, label in cls.FEATURE_LABELS.items() if features & flag)


class BotConversation(models.Model):
    """A bot set up in a conversation. ``since_event_id``: the newest outbox event when it was set
    up; only later events of the conversation are delivered to it."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="conversations")
    # No cascade from conversations: deleting rooms (a parent's breakout rooms) costs no query
    # here; set-ups of deleted conversations are swept by the delivery job's housekeeping.
    conversation = models.ForeignKey(Conversation, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    since_event_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot", "conversation"], name="bot_once_per_conversation")]
        indexes = [models.Index(fields=["conversation", "bot"], name="bots_conv_bot_idx")]

    def __str__(self) -> str:
        return f"bot #{self.bot_id} in conversation #{self.conversation_id}"


class BotDelivery(models.Model):
    """One webhook to one bot. ``event_id`` is the outbox event it comes from (unique per bot: a
    dispatch that runs twice creates it once); Join/Leave have none. The body is built once, so
    every attempt sends the same bytes (with a fresh random and signature); ``id`` is sent as
    ``X-Breakout-Delivery-Id`` for the bot to deduplicate retries."""

    class Kind(models.TextChoices):
        CREATE = "Create"
        LIKE = "Like"
        UNDO = "Undo"
        JOIN = "Join"
        LEAVE = "Leave"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    token = models.CharField(max_length=32)
    body = models.TextField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True, help_text="Given up after BOTS_RETRY_MAX_AGE_HOURS.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot", "event_id"], condition=Q(event_id__isnull=False), name="bot_delivery_once_per_event"
            )
        ]
        indexes = [
            # The delivery job: pending deliveries that are due, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(delivered_at__isnull=True, abandoned_at__isnull=True),
                name="bots_delivery_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.id} to bot #{self.bot_id}"

    @property
    def status(self) -> str:
        if self.delivered_at:
            return "delivered"
        if self.abandoned_at:
            return "abandoned"
        return "pending"


class DispatchCursor(models.Model):
    """One row: the outbox event id through which the dispatcher has created deliveries."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"dispatched through #{self.last_event_id}"


class SeenRandom(models.Model):
    """Randoms of accepted bot requests, kept ``BOTS_REPLAY_WINDOW_SECONDS``: a request that
    reuses one is a replay (401)."""

    digest = models.CharField(max_length=64, primary_key=True, help_text="sha256 of the random.")
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.digest
