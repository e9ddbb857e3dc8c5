"""Breakout's own records: rounds, assignment spans and templates (issue 12).

A **round** runs from a configure to the removal of its breakout rooms; an **assignment span** is
one student's stay in one breakout room during a round. Both name rooms by token and name, not by
foreign key: the rooms are deleted with the round's end, the history stays. A round keeps its
parent by foreign key (a parent outlives its breakout rooms; deleting the conversation itself
deletes its history).

The lifecycle services write them in the same transaction as the change they record, in bulk.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BreakoutRound(models.Model):
    parent = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="breakout_rounds")
    mode = models.PositiveSmallIntegerField(help_text="Breakout mode of the configure (1 automatic, 2 manual, 3 free)")
    amount = models.PositiveSmallIntegerField(default=0)
    seed = models.BigIntegerField(null=True, blank=True, help_text="Seed of an automatic assignment, when given")
    strategy = models.CharField(max_length=16, blank=True, default="")
    configured_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True, help_text="First start of the round")
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="Last stop of the round")
    removed_at = models.DateTimeField(null=True, blank=True, help_text="End of the round (rooms removed)")
    timer_ends_at = models.DateTimeField(null=True, blank=True, help_text="Reserved for the round timers")
    configured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("id",)
        constraints = [
            # One open round per parent: configure refuses a configured parent under the tree lock.
            models.UniqueConstraint(
                fields=["parent"], condition=models.Q(removed_at__isnull=True), name="breakout_one_open_round"
            ),
        ]

    def __str__(self) -> str:
        return f"Round {self.pk} of {self.parent_id}"


class SpanHow(models.TextChoices):
    """How a span opened (or, in ``closed_how``, ended)."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"
    SWITCH = "switch"
    REORGANIZE = "reorganize"
    ADDED = "added"
    REMOVED = "removed"
    ROUND_END = "round-end"


class AssignmentSpan(models.Model):
    How = SpanHow

    round = models.ForeignKey(BreakoutRound, on_delete=models.CASCADE, related_name="spans")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_id = models.CharField(max_length=255, help_text="User id, kept when the user is deleted")
    attendee_id = models.BigIntegerField(null=True, blank=True, help_text="The attendee id in the parent")
    room_token = models.CharField(max_length=64)
    room_name = models.CharField(max_length=255)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Null while the span is open")
    how = models.CharField(max_length=16, choices=SpanHow.choices, help_text="How the span opened")
    closed_how = models.CharField(max_length=16, choices=SpanHow.choices, blank=True, default="")

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=["round", "user"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True) | models.Q(closed_at__gte=models.F("opened_at")),
                name="assignment_span_closes_after_it_opens",
            ),
            models.CheckConstraint(condition=models.Q(how__in=[c.value for c in SpanHow]), name="assignment_span_how"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} in {self.room_name}"


class AssignmentTemplate(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="breakout_templates")
    name = models.CharField(max_length=255)
    rows = models.JSONField(default=list, help_text='[{"userId": "...", "room": "Room 1"}, ...]')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="breakout_template_unique_name")]

    def __str__(self) -> str:
        return self.name


class BreakoutTimer(models.Model):
    """Who set the running timer (or grace countdown) of a parent, and what was announced of it.

    The end itself is ``Conversation.breakout_ends_at`` (on the parent and its rooms), cleared by
    every stop in the stop's own UPDATEs; this row only tells the worker whom the stop acts for
    and which warning lead times were already sent (extension ``breakout-rooms-timer``).
    """

    parent = models.OneToOneField(
        "conversations.Conversation", primary_key=True, on_delete=models.CASCADE, related_name="breakout_timer"
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grace = models.BooleanField(default=False, help_text="A countdown started by a stop with grace")
    announced = models.PositiveIntegerField(
        default=0, help_text="The smallest secondsLeft already sent in a breakout.timer event for this end"
    )

    def __str__(self) -> str:
        return f"Timer of {self.parent_id}"


class AssistanceRequest(models.Model):
    """One request for assistance of a breakout room: who asked and when, who claimed it and
    when, and when it ended (reset by an attendee, or closed by a stop or removal). The room is
    kept by id, token and name: breakout rooms are deleted with their round, the record stays
    (extension ``breakout-rooms-assistance-queue``)."""

    class End(models.TextChoices):
        RESET = "reset"
        STOPPED = "stopped"
        REMOVED = "removed"

    parent = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(
        BreakoutRound, null=True, blank=True, on_delete=models.SET_NULL, related_name="assistance"
    )
    room_id = models.BigIntegerField(help_text="The breakout room (kept after the room is deleted)")
    room_token = models.CharField(max_length=64)
    room_name = models.CharField(max_length=255)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_actor_id = models.CharField(max_length=255)
    requested_at = models.DateTimeField()
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_by_actor_id = models.CharField(max_length=255, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Null while the request is open")
    ended_how = models.CharField(max_length=16, choices=End.choices, blank=True, default="")

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=["parent", "ended_at"])]
        constraints = [
            # One open request per breakout room: a second request while one is open is the same one.
            models.UniqueConstraint(
                fields=["room_id"], condition=models.Q(ended_at__isnull=True), name="assistance_one_open_per_room"
            ),
        ]

    def __str__(self) -> str:
        return f"Assistance in {self.room_name} by {self.requested_by_actor_id}"
