from django.apps import AppConfig


class BreakoutConfig(AppConfig):
    name = "breakout"
    verbose_name = "Breakout rooms"

    def ready(self) -> None:
        from breakout.services.tree_rules import BreakoutTreeRules
        from conversations.hooks import tree_rules_register

        tree_rules_register(BreakoutTreeRules())
