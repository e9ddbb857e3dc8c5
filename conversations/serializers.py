"""Input serializers of the room, participant and chat endpoints (response shapes are in
``presenters``).

Each serializer types and checks presence of its parameters, in the order the contract reads
them, with the contract's error key; the domain rules that the contract checks after the
caller's role or the room's state (name length, lobby state, listable scope...) stay in the
services, which receive the typed values. drf-spectacular documents each endpoint from these
classes (bodies as JSON and form, query parameters of GET and DELETE).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from conversations.services.lifecycle import ROOM_NAME_MAX_LENGTH
from conversations.services.primitives import datetime_from_timestamp
from conversations.services.room_settings import DESCRIPTION_MAX_LENGTH, MESSAGE_EXPIRATION_MAX_SECONDS
from project.ocs.inputs import OcsInputSerializer, StrictBooleanField, StrictCharField, StrictIntegerField

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
    source = StrictCharField(required=False, default="users", help_text="users or groups")


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
    source = StrictCharField(required=False, default="users", help_text="users or groups")


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
