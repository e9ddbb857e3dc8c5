"""Input serializers of the Talk surface endpoints (issue 10)."""

from __future__ import annotations

from typing import Any

from project.errors import BadRequest
from project.ocs.inputs import OcsInputSerializer, StrictBooleanField, StrictCharField, StrictIntegerField


class ReactionInput(OcsInputSerializer):
    """Talk answers a missing or malformed reaction with a bare 400 (no error key)."""

    reaction = StrictCharField()

    def error_key(self, field_name: str) -> str:
        return ""


class ReactionFilterInput(OcsInputSerializer):
    reaction = StrictCharField(required=False, default="")


class MessageEditInput(OcsInputSerializer):
    message = StrictCharField(allow_nul=True)  # trimmed at the ends like a posted message


class ReadMarkerInput(OcsInputSerializer):
    lastReadMessage = StrictIntegerField(required=False, default=None, allow_null=True, min_value=-2)


class MentionsInput(OcsInputSerializer):
    search = StrictCharField(required=False, default="")
    limit = StrictIntegerField(required=False, default=20, min_value=1)
    includeStatus = StrictBooleanField(required=False, default=False)


class LevelInput(OcsInputSerializer):
    """``level`` among ``context["choices"]``."""

    level = StrictIntegerField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["level"] not in self.context["choices"]:
            raise BadRequest("level")
        return attrs


class StateInput(OcsInputSerializer):
    state = StrictIntegerField()


class PermissionsInput(OcsInputSerializer):
    permissions = StrictIntegerField(min_value=0, max_value=255)


class AttendeePermissionsInput(OcsInputSerializer):
    attendeeId = StrictIntegerField()
    method = StrictCharField(required=False, default="set")
    permissions = StrictIntegerField(min_value=0, max_value=255)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["method"] not in ("set", "add", "remove"):
            raise BadRequest("method")
        return attrs
