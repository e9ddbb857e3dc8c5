"""v4 room, participant and chat endpoints. Each view: find the room and check access, read the
parameters, call one service, serialize."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.models import Attendee, ChatMessage, Conversation
from conversations.selectors import (
    attendee_get_for_user,
    chat_messages_for_room,
    participant_payloads_for_room,
    room_payload_for_user,
    room_payloads_for_user,
    talk_config_hash,
)
from conversations.serializers import is_held_in_lobby, message_payload
from conversations.services import chat, rooms
from project.errors import BadRequest, Forbidden, PreconditionFailed
from project.ocs.schema import int_field, ocs_body, ocs_response, ocs_responses, query_param, str_field
from project.ocs.views import OCSView

CHAT_LIMIT_DEFAULT = 100
CHAT_LIMIT_MAX = 200

ATTENDEE_ID = int_field(help_text="attendeeId of the participant")
ATTENDEE_ID_QUERY = query_param("attendeeId", OpenApiTypes.INT, required=True, description="attendeeId")
INCLUDE_STATUS = query_param("includeStatus", OpenApiTypes.BOOL, description="Include user statuses")


def _message_with_parent(message: ChatMessage, *, attendee: Attendee) -> dict[str, Any]:
    """A chat message for the caller; a reply carries the message it answers as ``parent``."""
    token = attendee.room.token
    payload = message_payload(message, room_token=token, viewer_actor_id=attendee.actor_id)
    if message.reply_to is not None:
        payload["parent"] = message_payload(message.reply_to, room_token=token, viewer_actor_id=attendee.actor_id)
    return payload


_MISSING = object()


def _lobby_timer_passed(payloads: list[dict[str, Any]], *, now: int) -> list[int]:
    """Ids of the listed conversations whose lobby is on with a timer that has passed."""
    return [
        payload["id"]
        for payload in payloads
        if payload["objectType"] == "" and payload["lobbyState"] and 0 < payload["lobbyTimer"] <= now
    ]


class RoomView(OCSView):
    """Base for endpoints on one conversation: the access checks of contract 1.0, in order.
    A lobby whose timer has passed is opened first, as Talk does when it loads a room."""

    def get_attendee(self, token: str, *, moderator: bool = False, lobby_rule: bool = False) -> Attendee:
        attendee = attendee_get_for_user(user=self.request.user, token=token)
        if rooms.lobby_timer_due(attendee.room):
            rooms.conversation_lobby_timers_expire(room_ids=[attendee.room.pk])
            attendee.room.lobby_state, attendee.room.lobby_timer = Conversation.Lobby.NONE, None
        if moderator and attendee.participant_type not in Attendee.MODERATOR_TYPES:
            raise Forbidden()
        if lobby_rule and is_held_in_lobby(attendee, attendee.room):
            raise PreconditionFailed()
        return attendee

    def room_response(self, room: Conversation, *, status: int = 200) -> Response:
        return Response(room_payload_for_user(user=self.request.user, room=room), status=status)


class RoomListView(OCSView):
    @extend_schema(
        parameters=[
            query_param(
                "modifiedSince", OpenApiTypes.INT, description="Unix time: only conversations active since then"
            )
        ],
        responses=ocs_responses(_400="modifiedSince"),
    )
    def get(self, request: Request) -> Response:
        """The caller's conversations by ascending id; ``modifiedSince`` keeps those whose last
        activity is at or after that unix time."""
        request_time = int(timezone.now().timestamp())
        modified_since = self.params.int("modifiedSince", default=0)
        only_modified = None
        if modified_since > 0:
            since = rooms.datetime_from_timestamp(modified_since, error="modifiedSince")
            only_modified = Q(room__last_activity__gte=since)
        payloads = room_payloads_for_user(user=request.user, rooms=only_modified)
        # Talk opens a lobby whose timer has passed when it loads the room (rare: extra queries).
        due = _lobby_timer_passed(payloads, now=request_time)
        if due and rooms.conversation_lobby_timers_expire(room_ids=due):
            payloads = room_payloads_for_user(user=request.user, rooms=only_modified)
        response = Response(payloads)
        response["X-Nextcloud-Talk-Hash"] = talk_config_hash()
        response["X-Nextcloud-Talk-Modified-Before"] = str(request_time)
        return response

    @extend_schema(
        request=ocs_body(
            "RoomCreateRequest",
            roomType=int_field(choices={1: "one-to-one", 2: "group", 3: "public"}),
            roomName=str_field(required=False, help_text="1..255 characters (group and public)"),
            invite=str_field(required=False, help_text="User id (or group id with source=groups)"),
            source=str_field(required=False, default="users", help_text="users or groups"),
            objectType=str_field(required=False, default="", help_text="room: an extra breakout room"),
            objectId=str_field(required=False, help_text="Parent token when objectType is room"),
        ),
        responses={
            **ocs_responses(201, _400="type, name, invite, source, object, room, permissions, mode"),
            200: ocs_response(description="The existing one-to-one conversation"),
        },
    )
    def post(self, request: Request) -> Response:
        room_type = self.params.int("roomType", error="type")
        object_type = self.params.str("objectType", error="object", default="")
        if room_type == Conversation.Type.ONE_TO_ONE:
            room, created = rooms.conversation_create_one_to_one(
                actor=request.user, invite=self.params.str("invite", default="")
            )
            status = 201 if created else 200
        elif object_type:
            if room_type not in (Conversation.Type.GROUP, Conversation.Type.PUBLIC):
                raise BadRequest("type")
            room = rooms.breakout_room_create_extra(
                actor=request.user,
                parent_token=self.params.str("objectId", error="room", default=""),
                name=self.params.str("roomName", error="name", default=""),
                object_type=object_type,
            )
            status = 201
        else:
            room = rooms.conversation_create(
                actor=request.user,
                room_type=room_type,
                name=self.params.str("roomName", error="name", default=""),
                invite=self.params.str("invite", error="invite", default=""),
                source=self.params.str("source", error="source", default="users"),
            )
            status = 201
        return Response(room_payload_for_user(user=request.user, room=room), status=status)


class RoomDetailView(RoomView):
    def get(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token)
        response = self.room_response(attendee.room)
        response["X-Nextcloud-Talk-Hash"] = talk_config_hash()  # nc_py_api reads it after every call
        return response

    @extend_schema(
        request=ocs_body("RoomRenameRequest", roomName=str_field(help_text="1..255 characters")),
        responses=ocs_responses(_400="name, type"),
    )
    def put(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        name = self.params.str("roomName", error="name")
        rooms.conversation_rename(actor=request.user, room=attendee.room, name=name)
        return Response(None)

    def delete(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        rooms.conversation_delete(actor=request.user, room=attendee.room)
        return Response(None)


class RoomDescriptionView(RoomView):
    @extend_schema(
        request=ocs_body("RoomDescriptionRequest", description=str_field(required=False, default="")),
        responses=ocs_responses(_400="description, type"),
    )
    def put(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        description = self.params.str("description", default="")
        rooms.conversation_description_set(actor=request.user, room=attendee.room, description=description)
        return Response(None)


class ParticipantsView(RoomView):
    @extend_schema(parameters=[INCLUDE_STATUS])
    def get(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, lobby_rule=True)
        include_status = self.params.bool("includeStatus", default=False)
        return Response(participant_payloads_for_room(room=attendee.room, include_status=include_status))

    @extend_schema(
        request=ocs_body(
            "ParticipantAddRequest",
            newParticipant=str_field(help_text="User id (or group id with source=groups)"),
            source=str_field(required=False, default="users", help_text="users or groups"),
        ),
        responses=ocs_responses(_400="new-participant, source, type, moderator"),
    )
    def post(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        new_participant = self.params.str("newParticipant", error="new-participant")
        source = self.params.str("source", default="users")
        rooms.participants_add(actor=request.user, room=attendee.room, new_participant=new_participant, source=source)
        return Response(None)


class AttendeesView(RoomView):
    @extend_schema(parameters=[ATTENDEE_ID_QUERY], responses=ocs_responses(_400="attendeeId, type, moderator"))
    def delete(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        attendee_id = self.params.int("attendeeId")
        rooms.attendee_remove(actor=request.user, room=attendee.room, attendee_id=attendee_id)
        return Response(None)


class ParticipantSelfView(RoomView):
    def delete(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token)
        rooms.participant_leave(actor=request.user, room=attendee.room)
        return Response(None)


class ModeratorsView(RoomView):
    @extend_schema(request=ocs_body("ModeratorPromoteRequest", attendeeId=ATTENDEE_ID))
    def post(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        attendee_id = self.params.int("attendeeId")
        rooms.attendee_promote(actor=request.user, room=attendee.room, attendee_id=attendee_id)
        return Response(None)

    @extend_schema(parameters=[ATTENDEE_ID_QUERY])
    def delete(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        attendee_id = self.params.int("attendeeId")
        rooms.attendee_demote(actor=request.user, room=attendee.room, attendee_id=attendee_id)
        return Response(None)


class LobbyView(RoomView):
    @extend_schema(
        request=ocs_body(
            "LobbyRequest",
            state=int_field(choices={0: "no lobby", 1: "lobby for non-moderators"}),
            timer=int_field(required=False, min_value=0, help_text="Unix time when the lobby opens"),
        ),
        responses=ocs_responses(_400="state, timer, type, breakout-room"),
    )
    def put(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        state = self.params.int("state")
        timer = self.params.int("timer", default=None)
        room = rooms.conversation_lobby_set(actor=request.user, room=attendee.room, state=state, timer=timer)
        return self.room_response(room)


class ListableView(RoomView):
    @extend_schema(
        request=ocs_body(
            "ListableRequest", scope=int_field(choices={0: "participants only", 1: "regular users", 2: "everyone"})
        ),
        responses=ocs_responses(_400="scope, type, breakout-room"),
    )
    def put(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        scope = self.params.int("scope")
        room = rooms.conversation_listable_set(actor=request.user, room=attendee.room, scope=scope)
        return self.room_response(room)


class PublicView(RoomView):
    def post(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        room = rooms.conversation_public_set(actor=request.user, room=attendee.room, public=True)
        return self.room_response(room)

    def delete(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        room = rooms.conversation_public_set(actor=request.user, room=attendee.room, public=False)
        return self.room_response(room)


class PasswordView(RoomView):
    @extend_schema(request=ocs_body("PasswordRequest", password=str_field(required=False, default="")))
    def put(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        password = self.params.str("password", default="")
        rooms.conversation_password_set(actor=request.user, room=attendee.room, password=password)
        return Response(None)


class MessageExpirationView(RoomView):
    @extend_schema(
        request=ocs_body("MessageExpirationRequest", seconds=int_field(min_value=0, help_text="0: off")),
        responses=ocs_responses(_400="seconds, breakout-room"),
    )
    def post(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        seconds = self.params.int("seconds")
        rooms.conversation_message_expiration_set(actor=request.user, room=attendee.room, seconds=seconds)
        return Response(None)


class ChatView(RoomView):
    @extend_schema(
        request=ocs_body(
            "ChatMessageRequest",
            message=str_field(help_text="The message text"),
            replyTo=int_field(required=False, default=0, help_text="Id of the message answered"),
            referenceId=str_field(required=False, default="", help_text="Client reference"),
        ),
        responses=ocs_responses(201, _400="message, replyTo, referenceId", _413="message"),
    )
    def post(self, request: Request, token: str) -> Response:
        """Post a chat message: 201 with the message. ``actorDisplayName`` only names guests in
        Talk; logged-in users always post under their attendee display name."""
        attendee = self.get_attendee(token, lobby_rule=True)
        message = chat.chat_message_post(
            attendee=attendee,
            message=self.params.str("message", allow_nul=True),  # trimmed at the ends, refused inside
            reply_to=self.params.int("replyTo", default=0),
            reference_id=self.params.str("referenceId", default=""),
        )
        return Response(_message_with_parent(message, attendee=attendee), status=201)

    @extend_schema(
        parameters=[
            query_param("lookIntoFuture", OpenApiTypes.INT, enum=[0, 1], description="1: messages after lastKnown"),
            query_param("limit", OpenApiTypes.INT, description="1.., at most 200 are given (default 100)"),
            query_param("lastKnownMessageId", OpenApiTypes.INT, description="Message id to page from"),
        ],
        responses={
            **ocs_responses(_400="lookIntoFuture, limit, lastKnownMessageId"),
            304: OpenApiResponse(description="No newer messages (lookIntoFuture=1); no body"),
        },
    )
    def get(self, request: Request, token: str) -> HttpResponse | Response:
        """A page of the chat. ``lookIntoFuture=0``: the newest ``limit`` messages (older than
        ``lastKnownMessageId`` when given), newest first. ``lookIntoFuture=1``: the messages after
        ``lastKnownMessageId``, ascending, or HTTP 304 without a body when there are none. Unlike
        Talk this never long-polls: it answers at once (clients simply poll again)."""
        attendee = self.get_attendee(token, lobby_rule=True)
        look_into_future = self.params.int("lookIntoFuture", default=0)
        if look_into_future not in (0, 1):
            raise BadRequest("lookIntoFuture")
        limit = self.params.int("limit", default=CHAT_LIMIT_DEFAULT)
        if limit < 1:
            raise BadRequest("limit")
        last_known = self.params.int("lastKnownMessageId", default=0)
        messages = chat_messages_for_room(
            room=attendee.room,
            look_into_future=bool(look_into_future),
            limit=min(limit, CHAT_LIMIT_MAX),
            last_known_message_id=last_known,
        )
        if look_into_future and not messages:
            return HttpResponse(status=304)
        if look_into_future:
            chat.chat_read_marker_advance(attendee=attendee, message_id=messages[-1].pk)
        response = Response([_message_with_parent(message, attendee=attendee) for message in messages])
        if messages:
            response["X-Chat-Last-Given"] = str(messages[-1].pk)
        return response
