"""``manage.py bot``: Talk's ``occ talk:bot:*`` commands (install, list, state, setup, remove,
uninstall) with Talk's arguments, messages and exit codes."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.models import Bot, BotConversation
from bots.services import (
    BotCommandError,
    bot_conversation_disable,
    bot_conversation_enable,
    bot_install,
    bot_state_set,
    bot_uninstall,
    features_from_labels,
)
from conversations.models import Conversation
from project.errors import ServiceError

FEATURE_HELP = "webhook, response, event, reaction, or none (repeat the option for several)"


class Command(BaseCommand):
    help = (
        "Manage Talk's webhook bots. install NAME SECRET URL [DESCRIPTION] [--no-setup] [--feature F ...]; "
        "list [TOKEN] [--output json] (`bot -v 2 list` adds URLs and errors); state BOT_ID STATE [--feature F ...] "
        "(0 disabled, 1 enabled, 2 no-setup); setup BOT_ID TOKEN...; remove BOT_ID TOKEN...; "
        "uninstall BOT_ID | uninstall --url URL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        install = actions.add_parser("install", help="Install a new bot")
        install.add_argument("name", help="The name under which the messages will be posted")
        install.add_argument("secret", help="Secret used to validate API calls (40 to 128 characters)")
        install.add_argument("url", help="Webhook endpoint to post messages to")
        install.add_argument("description", nargs="?", default="", help="Optional description")
        install.add_argument("--no-setup", action="store_true", help="Prevent moderators from setting up the bot")
        install.add_argument("-f", "--feature", action="append", default=[], help=FEATURE_HELP)

        listing = actions.add_parser("list", help="List the installed bots (of a conversation)")
        listing.add_argument("token", nargs="?", help="Conversation token to limit the list to")
        listing.add_argument("--output", choices=("plain", "json"), default="plain")

        state = actions.add_parser("state", help="Change the state or features of a bot")
        state.add_argument("bot_id", type=int)
        state.add_argument("state", type=int, help="0 = disabled, 1 = enabled, 2 = no setup via the API")
        state.add_argument("-f", "--feature", action="append", default=[], help=FEATURE_HELP)

        setup = actions.add_parser("setup", help="Add a bot to conversations")
        setup.add_argument("bot_id", type=int)
        setup.add_argument("tokens", nargs="*", metavar="TOKEN")

        remove = actions.add_parser("remove", help="Remove a bot from conversations")
        remove.add_argument("bot_id", type=int)
        remove.add_argument("tokens", nargs="*", metavar="TOKEN")

        uninstall = actions.add_parser("uninstall", help="Uninstall a bot")
        uninstall.add_argument("bot_id", type=int, nargs="?", default=0)
        uninstall.add_argument("--url", help="The URL of the bot (when no id is given)")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, "_" + action)(**options)
        except BotCommandError as exc:
            raise CommandError(str(exc), returncode=exc.code) from None

    def _install(
        self, *, name: str, secret: str, url: str, description: str, no_setup: bool, feature: list[str], **_: Any
    ) -> None:
        features = features_from_labels(feature) if feature else None
        bot = bot_install(
            name=name, secret=secret, url=url, description=description, features=features, no_setup=no_setup
        )
        self.stdout.write(f"Bot installed (id {bot.pk})")

    def _list(self, *, token: str | None, output: str, verbosity: int, **_: Any) -> None:
        bots = Bot.objects.order_by("id")
        if token:
            bots = bots.filter(pk__in=BotConversation.objects.filter(conversation__token=token).values("bot_id"))
        threshold = settings.BOTS_FAILING_AFTER
        rows = []
        for bot in bots:
            row: dict[str, Any] = {
                "id": bot.pk,
                "name": bot.name,
                "description": bot.description,
                "state": bot.state,
                "features": Bot.feature_labels(bot.features),
                "error_count": bot.error_count,
                "failing": bot.is_failing(threshold),
            }
            if verbosity > 1:
                row |= {
                    "url": bot.url,
                    "url_hash": bot.url_hash,
                    "consecutive_failures": bot.consecutive_failures,
                    "last_error_date": int(bot.last_error_at.timestamp()) if bot.last_error_at else 0,
                    "last_error_message": bot.last_error_message,
                }
            rows.append(row)
        if output == "json":
            self.stdout.write(json.dumps(rows))
            return
        for row in rows:
            failing = "  FAILING" if row["failing"] else ""
            self.stdout.write(
                f"  - {row['id']}: {row['name']} (state {row['state']}, features: {row['features']}, "
                f"errors: {row['error_count']}){failing}"
            )
            for key in ("description", "url", "consecutive_failures", "last_error_date", "last_error_message"):
                if row.get(key) not in (None, ""):
                    self.stdout.write(f"      {key}: {row[key]}")

    def _state(self, *, bot_id: int, state: int, feature: list[str], **_: Any) -> None:
        features = features_from_labels(feature) if feature else None
        bot_state_set(bot_id=bot_id, state=state, features=features)
        if features is not None:
            self.stdout.write(f"Bot state set to {state} with features: {Bot.feature_labels(features)}")
        else:
            self.stdout.write(f"Bot state set to {state}")

    def _setup(self, *, bot_id: int, tokens: list[str], **_: Any) -> None:
        if not Bot.objects.filter(pk=bot_id).exists():
            raise BotCommandError(f"Bot could not be found by id: {bot_id}")
        code = 0
        for token in tokens:
            room = Conversation.objects.filter(token=token).first()
            if room is None:
                self.stderr.write(f"Conversation could not be found by token: {token}")
                code = 2
                continue
            try:
                result = bot_conversation_enable(room=room, bot_id=bot_id)
            except ServiceError as exc:
                self.stderr.write(f"{token}: {exc}")
                code = 4
                continue
            if not result.created:
                self.stderr.write(f"Bot is already set up for the conversation {token}")
                code = 3
                continue
            self.stdout.write(f"Successfully set up for conversation {token}")
        if code:
            raise BotCommandError("Not every conversation was set up", code=code)

    def _remove(self, *, bot_id: int, tokens: list[str], **_: Any) -> None:
        for room in Conversation.objects.filter(token__in=tokens):
            try:
                bot_conversation_disable(room=room, bot_id=bot_id)
            except ServiceError:
                raise BotCommandError(f"Bot could not be found by id: {bot_id}") from None
        self.stdout.write("Remove bot from given conversations")

    def _uninstall(self, *, bot_id: int, url: str | None, **_: Any) -> None:
        bot_uninstall(bot_id=bot_id or None, url=url)
        self.stdout.write("Bot uninstalled")
