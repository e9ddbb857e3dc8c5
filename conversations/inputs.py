"""Input serializers of the Talk surface endpoints (issue 10)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from project.errors import BadRequest
from project.ocs.inputs import (
    OcsInputSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    request_parameters,
)


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


def _list_parameter(request: Any, name: str) -> Any:
    """A list parameter as JSON sends it (``name: [...]``) or as a form or query does
    (``name[]=a&name[]=b``); None when absent."""
    data = request.data if hasattr(request.data, "getlist") else None
    for source in (data, request.query_params):
        if source is not None and f"{name}[]" in source:
            return source.getlist(f"{name}[]")
    values = request_parameters(request)
    return values.get(name)


class PollCreateInput(OcsInputSerializer):
    """Talk answers every invalid poll with a bare 400 (no error key)."""

    question = StrictCharField()
    options = serializers.ListField(child=StrictCharField())
    resultMode = StrictIntegerField(required=False, default=0)
    maxVotes = StrictIntegerField(required=False, default=0)

    def error_key(self, field_name: str) -> str:
        return ""

    @classmethod
    def from_request(cls, request: Any, **context: Any) -> dict[str, Any]:
        data = {**request_parameters(request), "options": _list_parameter(request, "options")}
        serializer = cls(data=data, context={"request": request, **context})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class PollVoteInput(OcsInputSerializer):
    optionIds = serializers.ListField(child=StrictIntegerField(), required=False, default=list)

    def error_key(self, field_name: str) -> str:
        return ""

    @classmethod
    def from_request(cls, request: Any, **context: Any) -> dict[str, Any]:
        raw = _list_parameter(request, "optionIds")
        serializer = cls(data={} if raw is None else {"optionIds": raw}, context={"request": request, **context})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class ReminderInput(OcsInputSerializer):
    timestamp = StrictIntegerField()


class AvatarEmojiInput(OcsInputSerializer):
    emoji = StrictCharField()
    color = StrictCharField(required=False, default=None, allow_null=True)
