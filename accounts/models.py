"""Users, app passwords and Talk's app config.

Groups are Django's own ``auth.Group`` (Talk's group ids are group names).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """A Talk user; ``username`` is the Talk user id (actorId of type ``users``)."""

    display_name = models.CharField(max_length=255, blank=True)

    def get_display_name(self) -> str:
        return self.display_name or self.username

    def __str__(self) -> str:
        return self.username


class AppPassword(models.Model):
    """A Nextcloud-style app password.

    The token itself is never stored: ``token_hash`` is an HMAC-SHA256 keyed with the secret
    key, so checking one costs a hash and an indexed lookup instead of a slow password hash.
    Rotating ``DJANGO_SECRET_KEY`` therefore invalidates every app password.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_passwords")
    name = models.CharField(max_length=255, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user} / {self.name or 'app password'} #{self.pk}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hmac.new(settings.SECRET_KEY.encode(), token.encode(), hashlib.sha256).hexdigest()


class AppConfigValue(models.Model):
    """Talk's app config (``spreed`` namespace): a key/value table read on every use, never cached,
    so a change made by one worker is seen by all the others at once."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    DEFAULTS = {"breakout_rooms": "yes"}
    # Every key the service reads, with the values it understands (``app_config_set`` refuses
    # the rest, so a typo cannot be stored and silently ignored).
    ALLOWED = {"breakout_rooms": ("yes", "no")}

    class Meta:
        ordering = ["key"]
        verbose_name = "app config value"

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
