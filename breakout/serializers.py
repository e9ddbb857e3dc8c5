"""Input serializers of the breakout endpoints (contract 1.1-1.11) and the attendee-map field.

Each serializer reads the request's parameters (query, form or JSON alike), runs the state
checks the contract orders before them (``check_state``, the guards of
``breakout.services.guards`` on the state the request found), then its fields in declaration
order; the first failure answers 400 with the contract's error key. Views pass the validated
values to one lifecycle service, which runs the same guards again under the tree lock.
Endpoints without parameters (remove, start, stop, assistance) have no input serializer: their
only checks are state checks, which the service makes under the lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from breakout.attendee_map import ERROR_KEY as ATTENDEE_MAP_ERROR
from breakout.attendee_map import AttendeeMap, attendee_map_check
from breakout.services.assignment import STRATEGIES, STRATEGY_RANDOM, AssignmentOptions
from breakout.services.guards import (
    CONFIGURABLE_MODES,
    GRACE_SECONDS_MAXIMUM,
    ROOMS_MAXIMUM,
    ROOMS_MINIMUM,
    TIMER_SECONDS_MAXIMUM,
    TIMER_SECONDS_MINIMUM,
    breakout_config_require,
    names_require,
    parent_configurable_require,
    parent_configured_require,
    parent_started_require,
    switch_open_require,
)
from conversations.models import Conversation
from project.errors import BadRequest
from project.ocs.inputs import (
    OcsInputSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    parse_strict_int,
)
from project.ocs.schema import TOKEN_PATTERN

# A map of every attendee of a very large class is well under this; anything longer is refused
# before it reaches the JSON parser.
ATTENDEE_MAP_MAX_LENGTH = 1_000_000
ATTENDEE_MAP_HELP = (
    'JSON object: attendee id in the parent -> 0-based room index (ascending id order), e.g. \'{"17": 0, "18": 1}\''
)


def attendee_map_decode(raw: Any) -> AttendeeMap:
    """Decode the wire form of an attendee map (contract 1.14 rules 1-5, 7 and 8) into
    {parent attendee id: room index}, or raise ``BadRequest("attendeeMap")``.

    "" is an empty map; invalid JSON, nesting and scalars are refused; ``{}``/``[]`` are empty;
    keys must be integers > 0 and values integers (or numeric strings) >= 0. Rule 6 (every index
    names a room) is ``attendee_map_check``'s, once the number of rooms is known.
    """
    if not isinstance(raw, str) or len(raw) > ATTENDEE_MAP_MAX_LENGTH:
        raise BadRequest(ATTENDEE_MAP_ERROR)
    if raw == "":
        return {}
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError covers malformed JSON and integers too long to convert; RecursionError
        # covers pathological nesting depth.
        raise BadRequest(ATTENDEE_MAP_ERROR) from None
    if isinstance(decoded, list):
        items: Iterable[tuple[Any, Any]] = enumerate(decoded)
    elif isinstance(decoded, dict):
        items = decoded.items()
    else:
        raise BadRequest(ATTENDEE_MAP_ERROR)
    parsed: AttendeeMap = {}
    for key, value in items:
        attendee_id = key if isinstance(key, int) else parse_strict_int(key)
        room_index = parse_strict_int(value)
        if attendee_id is None or room_index is None:
            raise BadRequest(ATTENDEE_MAP_ERROR)
        parsed[attendee_id] = room_index
    return attendee_map_check(parsed, room_count=None)


@extend_schema_field(OpenApiTypes.STR)
class AttendeeMapField(serializers.Field):
    """The ``attendeeMap`` string of contract 1.14, validated into ``dict[int, int]``."""

    default_error_messages = {"invalid": "Not an attendee map (contract 1.14)."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", ATTENDEE_MAP_HELP)
        super().__init__(**kwargs)

    def get_value(self, dictionary: Mapping[str, Any]) -> Any:
        # A missing map is its documented default, decoded like any other value.
        value = super().get_value(dictionary)
        return self.default if value is empty and self.default is not empty else value

    def to_internal_value(self, data: Any) -> AttendeeMap:
        try:
            return attendee_map_decode(data)
        except BadRequest:
            self.fail("invalid")

    def to_representation(self, value: Any) -> str:
        return value if isinstance(value, str) else json.dumps({str(k): v for k, v in value.items()})


class ManualModeAttendeeMapField(AttendeeMapField):
    """Configure's map: read in mode 2 only (contract 1.1: otherwise ignored, not even parsed).
    ``mode`` is declared before it, so it is a valid mode when this field runs."""

    def get_value(self, dictionary: Mapping[str, Any]) -> Any:
        if parse_strict_int(dictionary.get("mode")) != Conversation.BreakoutMode.MANUAL:
            return ""
        return super().get_value(dictionary)


class BreakoutModeField(serializers.ChoiceField):
    """A configurable breakout mode (1 automatic, 2 manual, 3 free) as an integer; 0 is refused
    (decision 2)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[(mode.value, mode.label) for mode in CONFIGURABLE_MODES], **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        value = parse_strict_int(data)
        if value is None:
            self.fail("invalid_choice", input=data)
        return Conversation.BreakoutMode(super().to_internal_value(value))


class BreakoutInput(OcsInputSerializer):
    """Base of the breakout inputs: the context carries ``parent`` (the conversation of the URL)
    and ``caller`` (the caller's attendee row in it)."""

    @property
    def conversation(self) -> Conversation:
        return self.context["parent"]


class BreakoutConfigureInput(BreakoutInput):
    """``POST /v1/breakout-rooms/{parent}`` (contract 1.1): ``config``, ``room``, then ``mode``,
    ``amount``, ``attendeeMap``."""

    class Meta:
        ref_name = "BreakoutConfigureRequest"  # the schema component's name before the input serializers

    mode = BreakoutModeField()
    amount = StrictIntegerField(min_value=ROOMS_MINIMUM, max_value=ROOMS_MAXIMUM, help_text="Number of breakout rooms")
    attendeeMap = ManualModeAttendeeMapField(
        source="attendee_map", required=False, default="[]", help_text=ATTENDEE_MAP_HELP + " (mode 2 only)"
    )

    def check_state(self) -> None:
        breakout_config_require()
        parent_configurable_require(self.conversation)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attendee_map_check(attrs["attendee_map"], room_count=attrs["amount"])
        return attrs


class BreakoutBroadcastInput(BreakoutInput):
    """``POST /v1/breakout-rooms/{parent}/broadcast`` (contract 1.5): ``mode``, then ``message``
    (empty after trimming: 400, too long: 413, both checked by the service)."""

    class Meta:
        ref_name = "BreakoutBroadcastRequest"  # the schema component's name before the input serializers

    message = StrictCharField(allow_nul=True, help_text="At most 32000 characters after trimming (longer: 413)")

    def check_state(self) -> None:
        parent_configured_require(self.conversation)


class BreakoutReorganizeInput(BreakoutInput):
    """``POST /v1/breakout-rooms/{parent}/attendees`` (contract 1.6): ``config``, ``mode``, then
    ``attendeeMap`` (its indices against the rooms under the lock, by the service)."""

    class Meta:
        ref_name = "BreakoutAttendeeMapRequest"  # the schema component's name before the input serializers

    attendeeMap = AttendeeMapField(source="attendee_map")

    def check_state(self) -> None:
        breakout_config_require()
        parent_configured_require(self.conversation)


class BreakoutSwitchInput(BreakoutInput):
    """``POST /v1/breakout-rooms/{parent}/switch`` (contract 1.9): ``mode``, ``status``,
    ``moderator``, then ``target`` (a token of one of the parent's rooms, by the service)."""

    class Meta:
        ref_name = "BreakoutSwitchRequest"  # the schema component's name before the input serializers

    target = StrictCharField(help_text=f"Token of a breakout room ({TOKEN_PATTERN})")

    def check_state(self) -> None:
        switch_open_require(self.conversation, caller=self.context["caller"])


class BreakoutParticipantsQuery(OcsInputSerializer):
    """``GET /v4/room/{parent}/breakout-rooms/participants`` (contract 1.11)."""

    includeStatus = StrictBooleanField(
        source="include_status", required=False, default=False, allow_null=True, help_text="Include user statuses"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"include_status": bool(attrs.get("include_status"))}


# --- Assignment extensions (issue 12) --------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class JsonGroupsField(serializers.Field):
    """A JSON-encoded list of lists (``keepApart``, ``keepTogether``: attendee ids of the parent,
    e.g. ``[[17, 18], [19, 20, 21]]``) or list (``spreadGroups``: group ids, e.g.
    ``["team-a", "team-b"]``); a JSON body may send the list itself."""

    default_error_messages = {"invalid": "Not a JSON list of the expected shape."}

    def __init__(self, *, nested: bool, **kwargs: Any) -> None:
        self.nested = nested
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            if len(data) > ATTENDEE_MAP_MAX_LENGTH:
                self.fail("invalid")
            try:
                data = json.loads(data) if data else []
            except (ValueError, RecursionError):
                self.fail("invalid")
        if not isinstance(data, list):
            self.fail("invalid")
        if not self.nested:
            if not all(isinstance(item, str) and item for item in data):
                self.fail("invalid")
            return list(dict.fromkeys(data))
        groups = []
        for group in data:
            if not isinstance(group, list):
                self.fail("invalid")
            ids = [parse_strict_int(item) if not isinstance(item, bool) else None for item in group]
            if any(item is None or item < 1 for item in ids):
                self.fail("invalid")
            groups.append(list(dict.fromkeys(ids)))
        return groups

    def to_representation(self, value: Any) -> Any:
        return json.dumps(value)


class AssignmentOptionsInput(OcsInputSerializer):
    """The optional parameters of configure mode 1 and shuffle; all absent: Talk's behaviour."""

    seed = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=2**63 - 1,
        help_text="Same seed, people, rooms: same draw",
    )
    keepApart = JsonGroupsField(nested=True, source="keep_apart", required=False, help_text="JSON [[id, id], ...]")
    keepTogether = JsonGroupsField(nested=True, source="keep_together", required=False, help_text="JSON [[id, ...]]")
    spreadGroups = JsonGroupsField(nested=False, source="spread_groups", required=False, help_text='JSON ["gid"]')
    strategy = serializers.ChoiceField(choices=list(STRATEGIES), required=False, help_text="random (default) or fresh")
    dryRun = StrictBooleanField(
        source="dry_run", required=False, default=False, allow_null=True, help_text="Preview: change nothing"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raw = request_parameters_of(self)
        options = AssignmentOptions(
            seed=attrs.get("seed"),
            keep_apart=attrs.get("keep_apart") or [],
            keep_together=attrs.get("keep_together") or [],
            spread_groups=attrs.get("spread_groups") or [],
            strategy=attrs.get("strategy") or STRATEGY_RANDOM,
        )
        sent = any(name in raw for name in ("seed", "keepApart", "keepTogether", "spreadGroups", "strategy"))
        return {"assignment": options if sent else None, "dry_run": bool(attrs.get("dry_run"))}


def request_parameters_of(serializer: serializers.Serializer) -> Mapping[str, Any]:
    data = serializer.initial_data
    return data if isinstance(data, Mapping) else {}


@extend_schema_field({"type": "string", "example": '["Algebra", "Geometry"]'})
class RoomNamesField(serializers.Field):
    """``names``: a JSON-encoded array of room names (a JSON body may send the array itself);
    its length and the names themselves are checked against ``amount`` by ``names_require``."""

    default_error_messages = {"invalid": "Not a JSON array of names."}

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, str):
            if len(data) > ATTENDEE_MAP_MAX_LENGTH:
                self.fail("invalid")
            try:
                data = json.loads(data)
            except (ValueError, RecursionError):
                self.fail("invalid")
        if not isinstance(data, list):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> str:
        return json.dumps(value)


class BreakoutConfigureAssignmentInput(BreakoutConfigureInput, AssignmentOptionsInput):
    """Configure with the assignment extensions (read in mode 1 only; ``dryRun`` in every mode)
    and the room names (extension breakout-rooms-names)."""

    class Meta:
        ref_name = "BreakoutConfigureRequest"

    names = RoomNamesField(
        required=False,
        help_text='JSON array of exactly `amount` room names (trimmed, 1-255 characters, unique), e.g. \'["A", "B"]\'',
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = BreakoutConfigureInput.validate(self, attrs)
        extra = AssignmentOptionsInput.validate(self, attrs)
        result = {key: attrs[key] for key in ("mode", "amount", "attendee_map")}
        if "names" in attrs:
            result["names"] = names_require(attrs["names"], amount=attrs["amount"])
        if attrs["mode"] == Conversation.BreakoutMode.AUTOMATIC:
            result["assignment"] = extra["assignment"]
        result["dry_run"] = extra["dry_run"]
        return result


class BreakoutShuffleInput(BreakoutInput, AssignmentOptionsInput):
    """``POST /v1/breakout-rooms/{parent}/shuffle``: ``config``, ``mode`` (1 only), then the
    assignment options."""

    class Meta:
        ref_name = "BreakoutShuffleRequest"

    def check_state(self) -> None:
        breakout_config_require()
        if self.conversation.breakout_room_mode != Conversation.BreakoutMode.AUTOMATIC:
            raise BadRequest("mode")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from breakout.services.assignment import AssignmentOptions

        extra = AssignmentOptionsInput.validate(self, attrs)
        return {"options": extra["assignment"] or AssignmentOptions(), "dry_run": extra["dry_run"]}


class BreakoutReorganizePreviewInput(BreakoutReorganizeInput):
    """Reorganize with ``dryRun``."""

    class Meta:
        ref_name = "BreakoutAttendeeMapRequest"

    dryRun = StrictBooleanField(
        source="dry_run", required=False, default=False, allow_null=True, help_text="Preview: change nothing"
    )


class BreakoutHistoryQuery(OcsInputSerializer):
    """``GET /v1/breakout-rooms/{parent}/history``: Talk-style ``limit`` and ``offset`` over rounds
    (newest first); the filters are the FilterSet's."""

    limit = StrictIntegerField(required=False, default=20, min_value=1, max_value=200, help_text="Rounds per page")
    offset = StrictIntegerField(required=False, default=0, min_value=0, help_text="Rounds to skip")


class TemplateSaveInput(OcsInputSerializer):
    """``POST /v1/breakout-rooms/{parent}/templates``: ``name`` (saving a name again replaces it)."""

    name = StrictCharField(max_length=255, help_text="Template name, unique per owner")


class TemplateApplyInput(OcsInputSerializer):
    """``POST .../templates/{id}/apply``: ``dryRun``."""

    dryRun = StrictBooleanField(
        source="dry_run", required=False, default=False, allow_null=True, help_text="Preview: change nothing"
    )


# --- Timers, one room at a time, assistance queue (issue 11) ---------------------------------


class BreakoutStartInput(OcsInputSerializer):
    """``POST /v1/breakout-rooms/{parent}/rooms``: ``duration`` (extension breakout-rooms-timer)."""

    class Meta:
        ref_name = "BreakoutStartRequest"

    duration = StrictIntegerField(
        required=False,
        min_value=TIMER_SECONDS_MINIMUM,
        max_value=TIMER_SECONDS_MAXIMUM,
        help_text="Seconds until the rooms close by themselves (extension breakout-rooms-timer)",
    )


class BreakoutStopInput(OcsInputSerializer):
    """``DELETE /v1/breakout-rooms/{parent}/rooms``: ``grace`` (extension breakout-rooms-timer)."""

    class Meta:
        ref_name = "BreakoutStopRequest"

    grace = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=GRACE_SECONDS_MAXIMUM,
        help_text="Close the rooms after this countdown in seconds instead of at once (extension breakout-rooms-timer)",
    )


class BreakoutTimerInput(BreakoutInput):
    """``PUT /v1/breakout-rooms/{parent}/timer``: ``status`` (started), then ``duration``."""

    class Meta:
        ref_name = "BreakoutTimerRequest"

    duration = StrictIntegerField(
        min_value=TIMER_SECONDS_MINIMUM, max_value=TIMER_SECONDS_MAXIMUM, help_text="Seconds from now until the end"
    )

    def check_state(self) -> None:
        parent_started_require(self.conversation)
