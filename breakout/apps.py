from django.apps import AppConfig


class BreakoutConfig(AppConfig):
    name = "breakout"
    verbose_name = "Breakout rooms"

    def ready(self) -> None:
        from breakout.services.tree_rules import BreakoutTreeRules
        from conversations.hooks import tree_rules_register

        tree_rules_register(BreakoutTreeRules())

        from breakout.metrics import BreakoutCollector, waiting_clients_source
        from live.hub import waiting_clients
        from project.metrics import register_scrape_collector

        register_scrape_collector(BreakoutCollector())
        # Per process: the long polls and streams this process (this gunicorn worker) holds.
        waiting_clients_source(waiting_clients)
