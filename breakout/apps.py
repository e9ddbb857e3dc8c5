from django.apps import AppConfig


class BreakoutConfig(AppConfig):
    name = "breakout"
    verbose_name = "Breakout rooms"

    def ready(self) -> None:
        from breakout.metrics import BreakoutCollector
        from project.metrics import register_scrape_collector

        register_scrape_collector(BreakoutCollector())
