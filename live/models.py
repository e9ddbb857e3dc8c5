"""The event outbox: one row per change that clients or integrations must learn of.

Rows are written in the same transaction as the change (``live.services.events_record_bulk``),
so an event of a rolled-back change never exists and an event is never visible before its change.
No foreign keys to other apps: the outbox outlives the rows it talks about (a deleted room's
``breakout.removed`` must still be readable) and its migration depends on no other app.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Event(models.Model):
    id = models.BigAutoField(primary_key=True, help_text="Increasing; the stream's `id:` and Last-Event-ID.")
    type = models.CharField(max_length=64, help_text="For example chat.message or breakout.switchto.")
    token = models.CharField(max_length=32, help_text="The conversation the event is about.")
    parent_token = models.CharField(
        max_length=32, null=True, blank=True, help_text="The parent conversation when `token` is a breakout room."
    )
    actor_id = models.CharField(max_length=255, blank=True, help_text="Who caused it (a user's actor id).")
    target_user_id = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        help_text="Set for events addressed to one user (breakout.switchto): only they and moderators see it.",
    )
    payload = models.JSONField(default=dict, blank=True, help_text="The type's own fields.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            # A stream that follows one tree resumes with token/parent_token = X and id > N.
            models.Index(fields=["token", "id"], name="live_event_token_id_idx"),
            models.Index(fields=["parent_token", "id"], name="live_event_parent_id_idx"),
            models.Index(fields=["target_user_id", "id"], name="live_event_target_id_idx"),
            # The retention job deletes by age.
            models.Index(fields=["created_at"], name="live_event_created_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.type} {self.token}"


class Retention(models.Model):
    """One row: the highest event id the retention job has deleted. A client resuming from an
    id below it may have missed events and is told to reload (``event: reset``)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    pruned_through = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"events pruned through #{self.pruned_through}"


class WorkerHeartbeat(models.Model):
    """One row: when a background worker (``manage.py live_worker``) last showed it was alive.
    Every worker's housekeeping loop writes it every few seconds; ``/readyz`` fails when it is
    older than ``LIVE_WORKER_STALE_SECONDS`` (``live.health.worker_heard_from``)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    beat_at = models.DateTimeField()
    worker = models.CharField(max_length=255, blank=True, help_text="host:pid of the worker that wrote it last.")

    def __str__(self) -> str:
        return f"worker {self.worker} heard from at {self.beat_at:%Y-%m-%d %H:%M:%S}"
