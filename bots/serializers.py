"""Input serializers of the bot endpoints (the schema's only declaration of their bodies)."""

from __future__ import annotations

from project.ocs.inputs import OcsInputSerializer, StrictBooleanField, StrictCharField, StrictIntegerField


class BotMessageInput(OcsInputSerializer):
    # NULs are trimmed at the ends and refused inside by the chat's validation, like PHP.
    message = StrictCharField(allow_nul=True, help_text="The message text; signed: random + message")
    referenceId = StrictCharField(required=False, default="", help_text="Client reference (at most 64 characters)")
    replyTo = StrictIntegerField(required=False, default=0, help_text="Id of the message of this conversation answered")
    silent = StrictBooleanField(required=False, default=False, help_text="No notifications (accepted; none are sent)")


class BotReactionInput(OcsInputSerializer):
    """Talk answers a missing or malformed reaction with a bare 400 (no error key)."""

    reaction = StrictCharField(help_text="One emoji; signed: random + reaction")

    def error_key(self, field_name: str) -> str:
        return ""
