from __future__ import annotations

from django.db import models


class FailureWindow(models.Model):
    """Failures of one client address in the current window (the database store of the guard,
    used when ``REDIS_URL`` is not set). Written only by one atomic upsert, so concurrent
    failures in several workers are all counted."""

    address = models.CharField(max_length=64, primary_key=True)
    started_at = models.FloatField(db_index=True, help_text="Unix time of the window's first failure")
    failures = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.address}: {self.failures}"
