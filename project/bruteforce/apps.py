from __future__ import annotations

from django.apps import AppConfig


class BruteForceConfig(AppConfig):
    name = "project.bruteforce"
    label = "bruteforce"
    verbose_name = "Brute-force guard"
    default_auto_field = "django.db.models.BigAutoField"
