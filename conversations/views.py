"""v4 room, participant and chat endpoints. Each view: find the room and check the caller's
access, validate the parameters with an input serializer, call one service, render with a
presenter."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSetMixin

from accounts.authentication import authenticated_user
from accounts.models import User
from conversations import presenters
from conversations.models import Attendee, Conversation
from conversations.permissions import is_held_in_lobby
from conversations.selectors import (
    attendee_get_for_user,
    caller_room,
    caller_rooms,
    chat_messages_for_room,
    participants_of_room,
    talk_config_hash,
)
from conversations.serializers import (
    AttendeeIdInput,
    BreakoutRoomCreateInput,
    ChatPostInput,
    ChatReadInput,
    GroupCreateInput,
    ListableInput,
    LobbyInput,
    MessageExpirationInput,
    OneToOneCreateInput,
    ParticipantAddInput,
    ParticipantsListInput,
    PasswordInput,
    RoomCreateDocumentation,
    RoomCreateInput,
    RoomDescriptionInput,
    RoomListInput,
    RoomRenameInput,
)
from conversations.services import chat, lifecycle, lobby, moderators, participants, room_settings
from conversations.services.primitives import conversation_tree_end_apply_if_due, tree_end_due
from project.errors import BadRequest, Forbidden, PreconditionFailed
from project.ocs.schema import ocs_body, ocs_response, ocs_responses
from project.ocs.views import OCSView


class RoomView(OCSView):
    # Base for endpoints on one conversation: the access checks of contract 1.0, in order. (A
    # comment, not a docstring: drf-spectacular would describe every operation without one by it.)

    @property
    def actor(self) -> User:
        """The caller; every OCS endpoint requires a login, so it is never anonymous here."""
        return authenticated_user(self.request)

    def get_attendee(self, token: str, *, moderator: bool = False, lobby_rule: bool = False) -> Attendee:
        attendee = attendee_get_for_user(user=self.actor, token=token)
        # Talk opens a lobby whose timer has passed when it loads a room: a write, by the service.
        attendee.room = lobby.conversation_lobby_open_if_timer_passed(room=attendee.room)
        # A breakout timer whose end has passed is applied before the tree is read (the worker
        # closes the rooms within seconds; a request in between must see them closed already).
        attendee.room = conversation_tree_end_apply_if_due(room=attendee.room)
        if moderator and attendee.participant_type not in Attendee.MODERATOR_TYPES:
            raise Forbidden()
        if lobby_rule and is_held_in_lobby(attendee, attendee.room):
            raise PreconditionFailed()
        return attendee

    def room_response(self, room: Conversation, *, status: int = 200) -> Response:
        return Response(presenters.room_payload_for_user(user=self.actor, room=room), status=status)


class RoomViewSet(ViewSetMixin, RoomView):
    """``/v4/room`` (list, create) and ``/v4/room/{token}`` (retrieve, rename, delete)."""

    @extend_schema(parameters=[RoomListInput], responses=ocs_responses(_400="modifiedSince"))
    def list(self, request: Request) -> Response:
        """The caller's conversations by ascending id; ``modifiedSince`` keeps those whose last
        activity is at or after that unix time."""
        request_time = timezone.now()
        since = RoomListInput.from_request(request)["modified_since"]
        found = caller_rooms(user=self.actor, modified_since=since)
        # Talk opens a lobby whose timer has passed when it loads the room (rare: extra queries).
        due = [c.room.pk for c in found if lobby.lobby_timer_due(c.room, now=request_time)]
        if due and lobby.conversation_lobby_timers_expire(room_ids=due):
            found = caller_rooms(user=self.actor, modified_since=since)
        ended = [c.room for c in found if tree_end_due(c.room, now=request_time)]
        if ended:  # breakout timers past their end (rare: the worker applies them within seconds)
            for ended_room in ended:
                conversation_tree_end_apply_if_due(room=ended_room)
            found = caller_rooms(user=self.actor, modified_since=since)
        response = Response([presenters.caller_room_payload(c) for c in found])
        response["X-Nextcloud-Talk-Hash"] = talk_config_hash()
        response["X-Nextcloud-Talk-Modified-Before"] = str(int(request_time.timestamp()))
        return response

    @extend_schema(
        request=ocs_body(RoomCreateDocumentation),
        responses={
            **ocs_responses(201, _400="type, name, invite, source, object, room, permissions, mode"),
            200: ocs_response(description="The existing one-to-one conversation"),
        },
    )
    def create(self, request: Request) -> Response:
        kind = RoomCreateInput.from_request(request)
        room_type, object_type = kind["roomType"], kind["objectType"]
        status = 201
        if room_type == Conversation.Type.ONE_TO_ONE:
            values = OneToOneCreateInput.from_request(request)
            room, created = lifecycle.conversation_create_one_to_one(actor=self.actor, invite=values["invite"])
            status = 201 if created else 200
        elif object_type:
            if room_type not in (Conversation.Type.GROUP, Conversation.Type.PUBLIC):
                raise BadRequest("type")
            values = BreakoutRoomCreateInput.from_request(request)
            room = lifecycle.breakout_room_create_extra(
                actor=self.actor, parent_token=values["objectId"], name=values["roomName"], object_type=object_type
            )
        else:
            values = GroupCreateInput.from_request(request)
            room = lifecycle.conversation_create(
                actor=self.actor,
                room_type=room_type,
                name=values["roomName"],
                invite=values["invite"],
                source=values["source"],
            )
        return self.room_response(room, status=status)

    def retrieve(self, request: Request, token: str) -> Response:
        found = caller_room(user=self.actor, token=token)  # one query: access check and payload
        if lobby.lobby_timer_due(found.room) or tree_end_due(found.room):
            # Rare: get_attendee applies the passed timer; the room object is read again after it.
            self.get_attendee(token)
            found = caller_room(user=self.actor, token=token)
        response = Response(presenters.caller_room_payload(found))
        response["X-Nextcloud-Talk-Hash"] = talk_config_hash()  # nc_py_api reads it after every call
        return response

    @extend_schema(request=ocs_body(RoomRenameInput), responses=ocs_responses(_400="name, type"))
    def update(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = RoomRenameInput.from_request(request)
        room_settings.conversation_rename(actor=self.actor, room=attendee.room, name=values["roomName"])
        return Response(None)

    def destroy(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        lifecycle.conversation_delete(actor=self.actor, room=attendee.room)
        return Response(None)


class RoomDescriptionView(RoomView):
    @extend_schema(request=ocs_body(RoomDescriptionInput), responses=ocs_responses(_400="description, type"))
    def put(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = RoomDescriptionInput.from_request(request)
        room_settings.conversation_description_set(
            actor=self.actor, room=attendee.room, description=values["description"]
        )
        return Response(None)


class ParticipantsView(RoomView):
    @extend_schema(parameters=[ParticipantsListInput])
    def get(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, lobby_rule=True)
        values = ParticipantsListInput.from_request(request)
        room = attendee.room
        return Response(
            presenters.participant_payloads(
                participants_of_room(room=room), room=room, include_status=values["includeStatus"]
            )
        )

    @extend_schema(
        request=ocs_body(ParticipantAddInput), responses=ocs_responses(_400="new-participant, source, type, moderator")
    )
    def post(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = ParticipantAddInput.from_request(request)
        participants.participants_add(
            actor=self.actor, room=attendee.room, new_participant=values["newParticipant"], source=values["source"]
        )
        return Response(None)


class AttendeesView(RoomView):
    @extend_schema(parameters=[AttendeeIdInput], responses=ocs_responses(_400="attendeeId, type, moderator"))
    def delete(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = AttendeeIdInput.from_request(request)
        participants.attendee_remove(actor=self.actor, room=attendee.room, attendee_id=values["attendeeId"])
        return Response(None)


class ParticipantSelfView(RoomView):
    def delete(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token)
        participants.participant_leave(actor=self.actor, room=attendee.room)
        return Response(None)


class ModeratorsView(RoomView):
    @extend_schema(request=ocs_body(AttendeeIdInput))
    def post(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = AttendeeIdInput.from_request(request)
        moderators.attendee_promote(actor=self.actor, room=attendee.room, attendee_id=values["attendeeId"])
        return Response(None)

    @extend_schema(parameters=[AttendeeIdInput])
    def delete(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = AttendeeIdInput.from_request(request)
        moderators.attendee_demote(actor=self.actor, room=attendee.room, attendee_id=values["attendeeId"])
        return Response(None)


class LobbyView(RoomView):
    @extend_schema(request=ocs_body(LobbyInput), responses=ocs_responses(_400="state, timer, type, breakout-room"))
    def put(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = LobbyInput.from_request(request)
        room = lobby.conversation_lobby_set(
            actor=self.actor, room=attendee.room, state=values["state"], timer=values["timer"]
        )
        return self.room_response(room)


class ListableView(RoomView):
    @extend_schema(request=ocs_body(ListableInput), responses=ocs_responses(_400="scope, type, breakout-room"))
    def put(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = ListableInput.from_request(request)
        room = room_settings.conversation_listable_set(actor=self.actor, room=attendee.room, scope=values["scope"])
        return self.room_response(room)


class PublicView(RoomView):
    def post(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        room = room_settings.conversation_public_set(actor=self.actor, room=attendee.room, public=True)
        return self.room_response(room)

    def delete(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        room = room_settings.conversation_public_set(actor=self.actor, room=attendee.room, public=False)
        return self.room_response(room)


class PasswordView(RoomView):
    @extend_schema(request=ocs_body(PasswordInput))
    def put(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = PasswordInput.from_request(request)
        room_settings.conversation_password_set(actor=self.actor, room=attendee.room, password=values["password"])
        return Response(None)


class MessageExpirationView(RoomView):
    @extend_schema(request=ocs_body(MessageExpirationInput), responses=ocs_responses(_400="seconds, breakout-room"))
    def post(self, request: Request, token: str) -> Response:
        attendee = self.get_attendee(token, moderator=True)
        values = MessageExpirationInput.from_request(request)
        room_settings.conversation_message_expiration_set(
            actor=self.actor, room=attendee.room, seconds=values["seconds"]
        )
        return Response(None)


class ChatView(RoomView):
    @extend_schema(
        request=ocs_body(ChatPostInput),
        responses=ocs_responses(201, _400="message, replyTo, referenceId", _413="message"),
    )
    def post(self, request: Request, token: str) -> Response:
        """Post a chat message: 201 with the message. ``actorDisplayName`` only names guests in
        Talk; logged-in users always post under their attendee display name."""
        attendee = self.get_attendee(token, lobby_rule=True)
        values = ChatPostInput.from_request(request)
        message = chat.chat_message_post(
            attendee=attendee,
            message=values["message"],
            reply_to=values["replyTo"],
            reference_id=values["referenceId"],
        )
        return Response(presenters.message_with_parent_payload(message, attendee=attendee), status=201)

    @extend_schema(
        parameters=[ChatReadInput],
        responses={
            **ocs_responses(_400="lookIntoFuture, limit, lastKnownMessageId, timeout"),
            304: OpenApiResponse(description="No newer message within `timeout` seconds (lookIntoFuture=1); no body"),
        },
    )
    def get(self, request: Request, token: str) -> HttpResponse | Response:
        """A page of the chat. ``lookIntoFuture=0``: the newest ``limit`` messages (older than
        ``lastKnownMessageId`` when given), newest first. ``lookIntoFuture=1``: the messages after
        ``lastKnownMessageId``, ascending; when there are none yet the request waits up to
        ``timeout`` seconds for one (long polling, as in Talk: ``conversations/live_views.py``),
        then answers 304 without a body."""
        attendee = self.get_attendee(token, lobby_rule=True)
        values = ChatReadInput.from_request(request)
        look_into_future = bool(values["lookIntoFuture"])
        messages = chat_messages_for_room(
            room=attendee.room,
            look_into_future=look_into_future,
            limit=values["limit"],
            last_known_message_id=values["lastKnownMessageId"],
        )
        if look_into_future and not messages:
            return HttpResponse(status=304)
        if look_into_future:
            chat.chat_read_marker_advance(attendee=attendee, message_id=messages[-1].pk)
        response = Response(presenters.messages_with_parent_payloads(messages, attendee=attendee))
        if messages:
            response["X-Chat-Last-Given"] = str(messages[-1].pk)
        return response
