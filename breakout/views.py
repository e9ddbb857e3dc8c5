"""The breakout endpoints (contract 1.1-1.11) as one ViewSet whose actions are the lifecycle
verbs, bound to Talk's fixed URLs in ``breakout/urls.py``.

Each action: the access checks of contract 1.0 (``RoomView.get_attendee``), the action's input
serializer (state checks in the contract's order, then the parameters), one service called with
typed values, the response body from ``breakout.presenters``.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSetMixin

from accounts.models import User
from breakout import presenters
from breakout.history import history_rounds, round_payload
from breakout.models import AssignmentTemplate
from breakout.serializers import (
    BreakoutBroadcastInput,
    BreakoutConfigureAssignmentInput,
    BreakoutHistoryQuery,
    BreakoutParticipantsQuery,
    BreakoutReorganizePreviewInput,
    BreakoutShuffleInput,
    BreakoutStartInput,
    BreakoutStopInput,
    BreakoutSwitchInput,
    BreakoutTimerInput,
    TemplateApplyInput,
    TemplateSaveInput,
)
from breakout.services import assistance, control, lifecycle, templates, timers
from breakout.services.assignment import AssignmentOptions, breakout_shuffle
from breakout.services.preview import preview_run
from conversations.models import Conversation
from conversations.views import RoomView
from project.ocs.schema import ROOM_LIST, ocs_body, ocs_response, ocs_responses

ASSISTANCE_REQUEST = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "roomToken": {"type": "string"},
        "roomName": {"type": "string"},
        "requestedBy": {"type": "string"},
        "requestedByDisplayName": {"type": "string"},
        "requestedAt": {"type": "integer"},
        "claimedBy": {"type": "string", "nullable": True},
        "claimedByDisplayName": {"type": "string", "nullable": True},
        "claimedAt": {"type": "integer", "nullable": True},
    },
}


class BreakoutRoomViewSet(ViewSetMixin, RoomView):
    """``/v1/breakout-rooms/{token}[/...]`` and ``/v4/room/{token}/breakout-rooms[/participants]``."""

    @property
    def actor(self) -> User:
        """The caller; every OCS endpoint requires a login, so it is never anonymous here."""
        return cast(User, self.request.user)

    @extend_schema(
        operation_id="breakout_room-configure-breakout-rooms",
        summary="Configure breakout rooms",
        request=ocs_body(BreakoutConfigureAssignmentInput),
        responses=ocs_responses(
            data=ROOM_LIST,
            _400="config, room, mode, amount, attendeeMap, seed, keepApart, keepTogether, spreadGroups, strategy, "
            "dryRun, constraints, names",
        ),
    )
    def configure(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = BreakoutConfigureAssignmentInput.from_request(request, parent=caller.room, caller=caller)
        if values.pop("dry_run"):
            if values["mode"] == Conversation.BreakoutMode.AUTOMATIC:
                values["assignment"] = _seeded(values.get("assignment"))
            preview = preview_run(
                parent=caller.room,
                run=lambda: lifecycle.breakout_configure(actor=self.actor, parent=caller.room, **values),
            )
            return _preview_response(preview, values.get("assignment"))
        parent = lifecycle.breakout_configure(actor=self.actor, parent=caller.room, **values)
        body = presenters.breakout_tree_present(user=self.actor, parent=parent)
        return _with_report(Response(body), parent, values.get("assignment"))

    @extend_schema(
        operation_id="breakout_room-shuffle",
        summary="Draw the automatic assignment again (extension: breakout-rooms-assignment)",
        request=ocs_body(BreakoutShuffleInput),
        responses=ocs_responses(
            data=ROOM_LIST,
            _400="config, mode, seed, keepApart, keepTogether, spreadGroups, strategy, dryRun, constraints",
        ),
    )
    def shuffle(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = BreakoutShuffleInput.from_request(request, parent=caller.room, caller=caller)
        if values.pop("dry_run"):
            options = _seeded(values["options"])
            preview = preview_run(
                parent=caller.room, run=lambda: breakout_shuffle(actor=self.actor, parent=caller.room, options=options)
            )
            return _preview_response(preview, options)
        parent = breakout_shuffle(actor=self.actor, parent=caller.room, **values)
        body = presenters.breakout_tree_present(user=self.actor, parent=parent)
        return _with_report(Response(body), parent, values["options"])

    @extend_schema(
        operation_id="breakout_room-history",
        summary="History of the breakout rounds (extension: breakout-rooms-assignment)",
        parameters=[
            BreakoutHistoryQuery,
            OpenApiParameter("round", int, description="A round id"),
            OpenApiParameter("user", str, description="A user id: that person's stays only"),
            OpenApiParameter("since", int, description="Unix time: rounds and stays that end after it"),
            OpenApiParameter("until", int, description="Unix time: rounds and stays that begin before it"),
        ],
        responses=ocs_responses(data={"type": "object"}, _400="limit, offset, round, since, until"),
    )
    def history(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = BreakoutHistoryQuery.from_request(request)
        total, rounds = history_rounds(parent=caller.room, filters=request.query_params, **values)
        return Response(
            {
                "total": total,
                "limit": values["limit"],
                "offset": values["offset"],
                "rounds": [round_payload(round_) for round_ in rounds],
            }
        )

    @extend_schema(operation_id="breakout_room-remove-breakout-rooms", summary="Remove breakout rooms", request=None)
    def remove(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        parent = lifecycle.breakout_remove(actor=self.actor, parent=caller.room)
        return Response(presenters.room_present(user=self.actor, room=parent))

    @extend_schema(
        operation_id="breakout_room-start-breakout-rooms",
        summary="Start breakout rooms (optional `duration`: extension breakout-rooms-timer)",
        request=ocs_body(BreakoutStartInput),
        responses=ocs_responses(data=ROOM_LIST, _400="mode, duration"),
    )
    def start(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        duration = BreakoutStartInput.from_request(request).get("duration")
        if duration is None:
            parent = lifecycle.breakout_start(actor=self.actor, parent=caller.room)
        else:
            parent = timers.breakout_start_timed(actor=self.actor, parent=caller.room, duration=duration)
        return Response(presenters.breakout_tree_present(user=self.actor, parent=parent))

    @extend_schema(
        operation_id="breakout_room-stop-breakout-rooms",
        summary="Stop breakout rooms (optional `grace`: extension breakout-rooms-timer)",
        parameters=[BreakoutStopInput],
        request=None,
        responses=ocs_responses(data=ROOM_LIST, _400="mode, grace"),
    )
    def stop(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        grace = BreakoutStopInput.from_request(request).get("grace")
        if grace is None:
            parent = lifecycle.breakout_stop(actor=self.actor, parent=caller.room)
        else:
            parent = timers.breakout_stop_graced(actor=self.actor, parent=caller.room, grace=grace)
        return Response(presenters.breakout_tree_present(user=self.actor, parent=parent))

    @extend_schema(
        operation_id="breakout_room-timer-set",
        summary="Set or replace the end of started breakout rooms (extension: breakout-rooms-timer)",
        request=ocs_body(BreakoutTimerInput),
        responses=ocs_responses(data=ROOM_LIST, _400="status, duration"),
    )
    def timer_set(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = BreakoutTimerInput.from_request(request, parent=caller.room, caller=caller)
        parent = timers.breakout_timer_set(actor=self.actor, parent=caller.room, **values)
        return Response(presenters.breakout_tree_present(user=self.actor, parent=parent))

    @extend_schema(
        operation_id="breakout_room-timer-clear",
        summary="Clear the end of started breakout rooms (extension: breakout-rooms-timer)",
        request=None,
        responses=ocs_responses(data=ROOM_LIST, _400="status"),
    )
    def timer_clear(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        parent = timers.breakout_timer_clear(actor=self.actor, parent=caller.room)
        return Response(presenters.breakout_tree_present(user=self.actor, parent=parent))

    @extend_schema(
        operation_id="breakout_room-open-one",
        summary="Open one closed breakout room again (token: a breakout room; extension: breakout-rooms-single)",
        request=None,
        responses=ocs_responses(_400="room, status"),
    )
    def room_open(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        room = control.breakout_room_open(actor=self.actor, room=caller.room)
        return Response(presenters.room_present(user=self.actor, room=room))

    @extend_schema(
        operation_id="breakout_room-close-one",
        summary="Close one breakout room while the others run (token: a breakout room; extension: "
        "breakout-rooms-single)",
        request=None,
        responses=ocs_responses(_400="room, status"),
    )
    def room_close(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        room = control.breakout_room_close(actor=self.actor, room=caller.room)
        return Response(presenters.room_present(user=self.actor, room=room))

    @extend_schema(
        operation_id="breakout_room-assistance-queue",
        summary="Open requests for assistance of all breakout rooms, oldest first (extension: "
        "breakout-rooms-assistance-queue)",
        responses=ocs_responses(data={"type": "array", "items": ASSISTANCE_REQUEST}),
    )
    def assistance_queue(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        requests = assistance.open_requests(parent_id=caller.room.pk)
        return Response([assistance.request_payload(entry) for entry in requests])

    @extend_schema(
        operation_id="breakout_room-assistance-claim",
        summary="Claim the open request for assistance of a breakout room (token: a breakout room; "
        "extension: breakout-rooms-assistance-queue)",
        request=None,
        responses={
            **ocs_responses(data=ASSISTANCE_REQUEST, _400="room, status"),
            409: ocs_response(
                description='Another moderator holds it: `{"error": "claimed", "claimedBy", "claimedByDisplayName"}`'
            ),
        },
    )
    def assistance_claim(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        claimed = assistance.assistance_claim(actor=self.actor, room=caller.room)
        return Response(assistance.request_payload(claimed))

    @extend_schema(
        operation_id="breakout_room-broadcast-chat-message",
        summary="Broadcast a chat message to all breakout rooms",
        request=ocs_body(BreakoutBroadcastInput),
        responses=ocs_responses(status.HTTP_201_CREATED, data=ROOM_LIST, _400="mode", _413="message"),
    )
    def broadcast(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = BreakoutBroadcastInput.from_request(request, parent=caller.room, caller=caller)
        parent = lifecycle.breakout_broadcast(actor=self.actor, parent=caller.room, **values)
        return Response(
            presenters.breakout_tree_present(user=self.actor, parent=parent), status=status.HTTP_201_CREATED
        )

    @extend_schema(
        operation_id="breakout_room-template-save",
        summary="Save the current assignment as a template (extension: breakout-rooms-assignment)",
        request=ocs_body(TemplateSaveInput),
        responses=ocs_responses(status.HTTP_201_CREATED, data={"type": "object"}, _400="mode, name"),
    )
    def template_save(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = TemplateSaveInput.from_request(request)
        template = templates.template_save(actor=self.actor, parent=caller.room, **values)
        return Response(_template_payload(template), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="breakout_room-template-list",
        summary="The caller's assignment templates (extension: breakout-rooms-assignment)",
        responses=ocs_responses(data={"type": "array", "items": {"type": "object"}}),
    )
    def template_list(self, request: Request, token: str) -> Response:
        self.get_attendee(token, moderator=True)
        rows = AssignmentTemplate.objects.filter(owner=self.actor).order_by("name", "id")
        return Response([_template_payload(template) for template in rows])

    @extend_schema(
        operation_id="breakout_room-template-apply",
        summary="Apply a template: configure or reorganize (extension: breakout-rooms-assignment)",
        request=ocs_body(TemplateApplyInput),
        responses=ocs_responses(data={"type": "object"}, _400="config, room, mode, attendeeMap, moderator, rows"),
    )
    def template_apply(self, request: Request, token: str, template_id: int) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = TemplateApplyInput.from_request(request)
        template = templates.template_get(owner=self.actor, template_id=template_id)
        if values["dry_run"]:
            previewed: list[templates.TemplateApplied] = []

            def run() -> Conversation:
                previewed.append(templates.template_apply(actor=self.actor, parent=caller.room, template=template))
                return previewed[0].parent

            body = preview_run(parent=caller.room, run=run)
            body["missing"] = previewed[0].missing
            return Response(body)
        applied = templates.template_apply(actor=self.actor, parent=caller.room, template=template)
        return Response(
            {
                "configured": applied.configured,
                "missing": applied.missing,
                "rooms": presenters.breakout_tree_present(user=self.actor, parent=applied.parent),
            }
        )

    @extend_schema(
        operation_id="breakout_room-template-delete",
        summary="Delete a template (extension: breakout-rooms-assignment)",
        request=None,
        responses=ocs_responses(),
    )
    def template_delete(self, request: Request, token: str, template_id: int) -> Response:
        self.get_attendee(token, moderator=True)
        templates.template_delete(owner=self.actor, template_id=template_id)
        return Response([])

    @extend_schema(
        operation_id="breakout_room-apply-attendee-map",
        summary="Reorganize attendees",
        request=ocs_body(BreakoutReorganizePreviewInput),
        responses=ocs_responses(data=ROOM_LIST, _400="config, mode, attendeeMap, moderator, dryRun"),
    )
    def reorganize(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, moderator=True)
        values = BreakoutReorganizePreviewInput.from_request(request, parent=caller.room, caller=caller)
        if values.pop("dry_run", False):
            body = preview_run(
                parent=caller.room,
                run=lambda: lifecycle.breakout_reorganize(actor=self.actor, parent=caller.room, **values),
            )
            return Response(body)
        parent = lifecycle.breakout_reorganize(actor=self.actor, parent=caller.room, **values)
        return Response(presenters.breakout_tree_present(user=self.actor, parent=parent))

    @extend_schema(
        operation_id="breakout_room-request-assistance",
        summary="Request assistance (token: a breakout room)",
        request=None,
        responses=ocs_responses(_400="room"),
    )
    def request_assistance(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token)
        room = lifecycle.assistance_request(actor=self.actor, room=caller.room)
        return Response(presenters.room_present(user=self.actor, room=room))

    @extend_schema(
        operation_id="breakout_room-reset-request-for-assistance",
        summary="Reset the request for assistance (token: a breakout room)",
        request=None,
        responses=ocs_responses(_400="room"),
    )
    def reset_assistance(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token)
        room = lifecycle.assistance_reset(actor=self.actor, room=caller.room)
        return Response(presenters.room_present(user=self.actor, room=room))

    @extend_schema(
        operation_id="breakout_room-switch-breakout-room",
        summary="Switch breakout room (free mode, non-moderators)",
        request=ocs_body(BreakoutSwitchInput),
        responses=ocs_responses(_400="mode, status, moderator, target"),
    )
    def switch(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token)
        values = BreakoutSwitchInput.from_request(request, parent=caller.room, caller=caller)
        target = lifecycle.breakout_switch(actor=self.actor, parent=caller.room, **values)
        # Decision 10: formatted for the caller's own attendee row in the target room.
        return Response(presenters.room_present(user=self.actor, room=target))

    @extend_schema(
        operation_id="room-get-breakout-rooms",
        summary="Get breakout rooms",
        responses=ocs_responses(data=ROOM_LIST, _400="mode, status"),
    )
    def list(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token)
        return Response(presenters.breakout_rooms_present(user=self.actor, attendee=caller))

    @extend_schema(
        operation_id="room-get-breakout-room-participants",
        summary="Get participants of the parent and its breakout rooms",
        parameters=[BreakoutParticipantsQuery],
        responses=ocs_responses(data={"type": "array", "items": {"type": "object"}}, _400="mode, status"),
    )
    def participants(self, request: Request, token: str) -> Response:
        caller = self.get_attendee(token, lobby_rule=True)
        values = BreakoutParticipantsQuery.from_request(request)
        return Response(presenters.breakout_participants_present(attendee=caller, **values))


REPEATED_PAIRS_HEADER = "X-Breakout-Repeated-Pairs"


def _seeded(options: AssignmentOptions | None) -> AssignmentOptions:
    """A dry run's draw gets a seed when the request has none, reported so that it can be made."""
    options = options or AssignmentOptions()
    if options.seed is None:
        options = dataclasses.replace(options, seed=random.SystemRandom().randrange(2**31))
    return options


def _preview_response(body: dict[str, Any], options: AssignmentOptions | None) -> Response:
    if options is not None:
        body["seed"] = options.seed
    if options is None or not options.fresh:
        body.pop("repeatedPairs", None)
    return Response(body)


def _with_report(response: Response, parent: Conversation, options: AssignmentOptions | None) -> Response:
    """``strategy=fresh``: the number of pairs who meet again, in a header (the body stays Talk's
    room list)."""
    plan = getattr(parent, "breakout_assignment", None)
    if plan is not None and options is not None and options.fresh:
        response[REPEATED_PAIRS_HEADER] = str(plan.repeated_pairs)
    return response


def _template_payload(template: AssignmentTemplate) -> dict[str, Any]:
    return {
        "id": template.pk,
        "name": template.name,
        "rooms": list(dict.fromkeys(row["room"] for row in template.rows)),
        "rows": template.rows,
        "createdAt": int(template.created_at.timestamp()),
    }
