"""Input serializers of the room, participant and chat endpoints, and of the Talk surface
(reactions, edits, read markers, mentions, polls, reminders, room settings, avatars); response
shapes are in ``presenters``.

Each serializer types and checks presence of its parameters, in the order the contract reads
them, with the contract's error key; the domain rules that the contract checks after the
caller's role or the room's state (name length, lobby state, listable scope...) stay in the
services, which receive the typed values. drf-spectacular documents each endpoint from these
classes (bodies as JSON and form, query parameters of GET and DELETE).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers
from rest_framework.request import Request

from conversations.services.lifecycle import ROOM_NAME_MAX_LENGTH
from conversations.services.primitives import datetime_from_timestamp
from conversations.services.room_settings import DESCRIPTION_MAX_LENGTH, MESSAGE_EXPIRATION_MAX_SECONDS
from project.errors import BadRequest, NotFound
from project.ocs.inputs import (
    OcsInputSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    request_parameters,
)

CHAT_LIMIT_DEFAULT = 100
CHAT_LIMIT_MAX = 200
CHAT_WAIT_DEFAULT = 30
CHAT_WAIT_MAX = 30


class RoomListInput(OcsInputSerializer):
    modifiedSince = StrictIntegerField(
        required=False, default=0, help_text="Unix time: only conversations active since then"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since = attrs["modifiedSince"]
        attrs["modified_since"] = datetime_from_timestamp(since, error="modifiedSince") if since > 0 else None
        return attrs


class RoomCreateInput(OcsInputSerializer):
    """The kind of room to create; the parameters of each kind follow in its own serializer."""

    error_keys = {"roomType": "type", "objectType": "object"}
    roomType = StrictIntegerField(help_text="1 one-to-one, 2 group, 3 public")
    objectType = StrictCharField(required=False, default="", help_text="room: an extra breakout room")


class OneToOneCreateInput(OcsInputSerializer):
    invite = StrictCharField(required=False, default="", help_text="User id of the other person")


class BreakoutRoomCreateInput(OcsInputSerializer):
    error_keys = {"objectId": "room", "roomName": "name"}
    objectId = StrictCharField(required=False, default="", help_text="Parent token when objectType is room")
    roomName = StrictCharField(required=False, default="", help_text=f"1..{ROOM_NAME_MAX_LENGTH} characters")


class GroupCreateInput(OcsInputSerializer):
    error_keys = {"roomName": "name"}
    roomName = StrictCharField(
        required=False, default="", help_text=f"1..{ROOM_NAME_MAX_LENGTH} characters (group and public)"
    )
    invite = StrictCharField(required=False, default="", help_text="User id (or group id with source=groups)")
    source = StrictCharField(required=False, default="users", help_text="users or groups")  # type: ignore[assignment]  # a field, not Field.source


class RoomCreateDocumentation(RoomCreateInput, OneToOneCreateInput, BreakoutRoomCreateInput, GroupCreateInput):
    """The union of the create parameters, for the schema only."""

    class Meta:
        ref_name = "RoomCreateRequest"


class RoomRenameInput(OcsInputSerializer):
    error_keys = {"roomName": "name"}
    roomName = StrictCharField(help_text=f"1..{ROOM_NAME_MAX_LENGTH} characters")


class RoomDescriptionInput(OcsInputSerializer):
    description = StrictCharField(required=False, default="", help_text=f"At most {DESCRIPTION_MAX_LENGTH} characters")


class ParticipantsListInput(OcsInputSerializer):
    includeStatus = StrictBooleanField(required=False, default=False, help_text="Include user statuses")


class ParticipantAddInput(OcsInputSerializer):
    error_keys = {"newParticipant": "new-participant"}
    newParticipant = StrictCharField(help_text="User id (or group id with source=groups)")
    source = StrictCharField(required=False, default="users", help_text="users or groups")  # type: ignore[assignment]  # a field, not Field.source


class AttendeeIdInput(OcsInputSerializer):
    attendeeId = StrictIntegerField(help_text="attendeeId of the participant")


class LobbyInput(OcsInputSerializer):
    state = StrictIntegerField(help_text="0 no lobby, 1 lobby for non-moderators")
    timer = StrictIntegerField(required=False, default=None, help_text="Unix time when the lobby opens")


class ListableInput(OcsInputSerializer):
    scope = StrictIntegerField(help_text="0 participants only, 1 regular users, 2 everyone")


class PasswordInput(OcsInputSerializer):
    password = StrictCharField(required=False, default="")


class MessageExpirationInput(OcsInputSerializer):
    seconds = StrictIntegerField(help_text=f"0 (off)..{MESSAGE_EXPIRATION_MAX_SECONDS}")


class ChatPostInput(OcsInputSerializer):
    # NULs are trimmed at the ends and refused inside by the service, like PHP.
    message = StrictCharField(allow_nul=True, help_text="The message text")
    replyTo = StrictIntegerField(required=False, default=0, help_text="Id of the message answered")
    referenceId = StrictCharField(required=False, default="", help_text="Client reference")


def _one_of(*allowed: int) -> Any:
    def check(value: int) -> None:
        if value not in allowed:
            raise serializers.ValidationError("not allowed")

    return check


class ChatReadInput(OcsInputSerializer):
    lookIntoFuture = StrictIntegerField(
        required=False, default=0, validators=[_one_of(0, 1)], help_text="1: messages after lastKnown"
    )
    limit = StrictIntegerField(
        required=False,
        default=CHAT_LIMIT_DEFAULT,
        min_value=1,
        help_text=f"1.., at most {CHAT_LIMIT_MAX} are given (default {CHAT_LIMIT_DEFAULT})",
    )
    lastKnownMessageId = StrictIntegerField(required=False, default=0, help_text="Message id to page from")
    timeout = StrictIntegerField(
        required=False,
        default=CHAT_WAIT_DEFAULT,
        help_text=(
            f"lookIntoFuture=1: seconds to wait for a newer message (default {CHAT_WAIT_DEFAULT}, "
            f"at most {CHAT_WAIT_MAX}; 0 answers at once)"
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["limit"] = min(attrs["limit"], CHAT_LIMIT_MAX)
        attrs["timeout"] = max(0, min(attrs["timeout"], CHAT_WAIT_MAX))
        return attrs


# Talk surface (issue 10)


class ReactionInput(OcsInputSerializer):
    """Talk answers a missing or malformed reaction with a bare 400 (no error key)."""

    reaction = StrictCharField(help_text="One emoji")

    class Meta:
        ref_name = "ReactionRequest"

    def error_key(self, field_name: str) -> str:
        return ""


class ReactionFilterInput(OcsInputSerializer):
    reaction = StrictCharField(required=False, default="", help_text="Only this emoji")


class MessageEditInput(OcsInputSerializer):
    message = StrictCharField(allow_nul=True, help_text="The new text")  # trimmed at the ends like a posted message

    class Meta:
        ref_name = "ChatMessageEditRequest"


class ReadMarkerInput(OcsInputSerializer):
    lastReadMessage = StrictIntegerField(
        required=False,
        default=None,
        allow_null=True,
        min_value=-2,
        help_text="Message id; default: the newest message",
    )

    class Meta:
        ref_name = "ReadMarkerRequest"


class MentionsInput(OcsInputSerializer):
    search = StrictCharField(required=False, default="", help_text="Start of an id or display name")
    limit = StrictIntegerField(required=False, default=20, min_value=1, help_text="1.., default 20")
    includeStatus = StrictBooleanField(required=False, default=False, help_text="Include user statuses")


class LevelInput(OcsInputSerializer):
    """``level`` among ``context["choices"]``."""

    level = StrictIntegerField(help_text="See Talk's notification levels")

    class Meta:
        ref_name = "NotificationLevelRequest"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["level"] not in self.context["choices"]:
            raise BadRequest("level")
        return attrs


class StateInput(OcsInputSerializer):
    state = StrictIntegerField(help_text="0 read-write, 1 read-only")

    class Meta:
        ref_name = "ReadOnlyRequest"


class PermissionsInput(OcsInputSerializer):
    permissions = StrictIntegerField(min_value=0, max_value=255)

    class Meta:
        ref_name = "PermissionsRequest"


class AttendeePermissionsInput(OcsInputSerializer):
    attendeeId = StrictIntegerField()
    method = StrictCharField(required=False, default="set", help_text="set, add or remove")
    permissions = StrictIntegerField(min_value=0, max_value=255)

    class Meta:
        ref_name = "AttendeePermissionsRequest"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["method"] not in ("set", "add", "remove"):
            raise BadRequest("method")
        return attrs


def _list_parameter(request: Request, name: str) -> Any:
    """A list parameter as JSON sends it (``name: [...]``) or as a form or query does
    (``name[]=a&name[]=b``); None when absent."""
    data = request.data if hasattr(request.data, "getlist") else None
    for source in (data, request.query_params):
        if source is not None and f"{name}[]" in source:
            return source.getlist(f"{name}[]")
    values = request_parameters(request)
    return values.get(name)


class PollInput(OcsInputSerializer):
    """Talk answers every invalid poll request with a bare 400 (no error key). ``list_parameters``
    are read as JSON lists or as ``name[]`` form or query values."""

    list_parameters: ClassVar[tuple[str, ...]] = ()

    def error_key(self, field_name: str) -> str:
        return ""

    @classmethod
    def from_request(cls, request: Request, **context: Any) -> dict[str, Any]:
        data = request_parameters(request)
        for name in cls.list_parameters:
            data[name] = _list_parameter(request, name)
        serializer = cls(data=data, context={"request": request, **context})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class PollCreateInput(PollInput):
    list_parameters = ("options",)
    question = StrictCharField(help_text="The question")
    options = serializers.ListField(child=StrictCharField(), help_text="At least two options")
    resultMode = StrictIntegerField(required=False, default=0, help_text="0 public, 1 hidden until closed")
    maxVotes = StrictIntegerField(required=False, default=0, help_text="0: unlimited")

    class Meta:
        ref_name = "PollCreateRequest"


class PollVoteInput(PollInput):
    list_parameters = ("optionIds",)
    optionIds = serializers.ListField(
        child=StrictIntegerField(), required=False, default=list, help_text="Option indexes; []: withdraw"
    )

    class Meta:
        ref_name = "PollVoteRequest"


class ReminderInput(OcsInputSerializer):
    timestamp = StrictIntegerField(help_text="Unix time of the reminder")

    class Meta:
        ref_name = "ReminderRequest"


class AvatarEmojiInput(OcsInputSerializer):
    emoji = StrictCharField(help_text="One emoji")
    color = StrictCharField(
        required=False, default=None, allow_null=True, help_text="Background RRGGBB (default: Talk's)"
    )

    class Meta:
        ref_name = "AvatarEmojiRequest"


def _unknown_token_if_nul(value: str) -> None:
    """No conversation token holds a NUL character: 404 like any unknown token (PostgreSQL could
    not even look it up)."""
    if "\x00" in value:
        raise NotFound()


class EventStreamInput(OcsInputSerializer):
    """The event stream's query; ``lastEventId`` falls back to the ``Last-Event-ID`` header."""

    lastEventId = StrictIntegerField(
        required=False, default=None, min_value=0, help_text="Resume after this event id (or the Last-Event-ID header)"
    )
    token = StrictCharField(
        required=False,
        default=None,
        allow_nul=True,
        validators=[_unknown_token_if_nul],
        help_text="Follow one conversation tree (the token of any of its rooms)",
    )

    @classmethod
    def from_request(cls, request: Request, **context: Any) -> dict[str, Any]:
        data: dict[str, Any] = {key: request.query_params.get(key) for key in request.query_params}
        data.setdefault("lastEventId", request.META.get("HTTP_LAST_EVENT_ID"))
        serializer = cls(data=data, context={"request": request, **context})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
