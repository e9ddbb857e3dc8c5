from django.apps import AppConfig


class BreakoutConfig(AppConfig):
    name = "breakout"
    verbose_name = "Breakout rooms"

    def ready(self) -> None:
        from breakout.services.tree_rules import BreakoutTreeRules
        from conversations.hooks import tree_rules_register

        tree_rules_register(BreakoutTreeRules())

        from breakout.metrics import BreakoutCollector
        from project.metrics import register_scrape_collector

        register_scrape_collector(BreakoutCollector())
