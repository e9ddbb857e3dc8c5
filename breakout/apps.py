from django.apps import AppConfig


class BreakoutConfig(AppConfig):
    name = "breakout"
    verbose_name = "Breakout rooms"
