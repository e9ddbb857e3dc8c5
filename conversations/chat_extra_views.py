"""Chat endpoints of the Talk surface (issue 10): reactions, editing and deleting messages,
clearing the history, read markers and mention suggestions. Same shape as the other views: find
the caller's attendee row (404 for outsiders, 412 in the lobby), validate the input, call one
service, format."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import authenticated_user
from conversations import views
from conversations.models import Attendee, Reminder
from conversations.presenters import (
    mention_suggestions,
    message_with_parent_payload,
    poll_payload,
    reactions_attach,
    reactions_payload,
    reminder_payload,
    upcoming_reminders_payload,
)
from conversations.serializers import (
    MentionsInput,
    MessageEditInput,
    PollCreateInput,
    PollVoteInput,
    ReactionFilterInput,
    ReactionInput,
    ReadMarkerInput,
    ReminderInput,
)
from conversations.services import message_edits, polls, reactions, read_markers, reminders
from conversations.services.chat_guards import chat_write_check, visible_comment, visible_message
from conversations.talk_selectors import message_reactions
from project.ocs.schema import ocs_body, ocs_response, ocs_responses
from project.ocs.views import OCSView

MESSAGE_ID = OpenApiParameter(
    "message_id", OpenApiTypes.INT, OpenApiParameter.PATH, pattern="^[0-9]+$", description="Message id"
)
REACTIONS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "object"}}}


class ChatWithHistoryView(views.ChatView):
    """``/chat/{token}``: the chat page now carries reactions, and moderators can clear it."""

    attendee: Attendee | None = None

    def get_attendee(self, token: str, **checks: bool) -> Attendee:
        self.attendee = super().get_attendee(token, **checks)
        return self.attendee

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """A chat page gets ``reactionsSelf`` (one query, none when the page has no reactions)."""
        page = request.method == "GET" and isinstance(response, Response) and isinstance(response.data, list)
        if page and self.attendee is not None:
            reactions_attach(response.data, viewer=self.attendee)
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(responses=ocs_responses(_403="(no key)"))
    def delete(self, request: Request, token: str) -> Response:
        """Clear the history (moderators; not in one-to-one or read-only conversations): 200
        with the ``history_cleared`` system message."""
        attendee = self.get_attendee(token)
        system = message_edits.chat_history_clear(attendee=attendee)
        return Response(message_with_parent_payload(system, attendee=attendee))


@extend_schema(parameters=[MESSAGE_ID])
class ChatMessageView(views.RoomView):
    @extend_schema(
        request=ocs_body(MessageEditInput),
        responses={
            **ocs_responses(_400="message, age", _403="permission", _404="message", _413="message"),
            405: ocs_response(description="error key: message (not a comment)"),
        },
    )
    def put(self, request: Request, token: str, message_id: int) -> Response:
        """Edit a comment (own, or anyone's for moderators outside one-to-one conversations;
        within 24 hours): 200 with the ``message_edited`` system message, the edited comment as
        its ``parent``."""
        attendee = self.get_attendee(token, lobby_rule=True)
        values = MessageEditInput.from_request(request)
        system = message_edits.chat_message_edit(attendee=attendee, message_id=message_id, message=values["message"])
        return Response(message_with_parent_payload(system, attendee=attendee))

    @extend_schema(
        responses={
            **ocs_responses(_403="permission", _404="message"),
            405: ocs_response(description="error key: message (not a comment)"),
        }
    )
    def delete(self, request: Request, token: str, message_id: int) -> Response:
        """Delete a comment: 200 with the ``message_deleted`` system message, the placeholder of
        the deleted comment as its ``parent``."""
        attendee = self.get_attendee(token, lobby_rule=True)
        system = message_edits.chat_message_delete(attendee=attendee, message_id=message_id)
        return Response(message_with_parent_payload(system, attendee=attendee))


@extend_schema(parameters=[MESSAGE_ID])
class ReactionView(views.RoomView):
    def _respond(self, attendee: Attendee, message_id: int, *, status: int = 200) -> Response:
        message = visible_message(room=attendee.room, message_id=message_id)
        return Response(reactions_payload(message_reactions(message=message)), status=status)

    @extend_schema(
        parameters=[ReactionFilterInput],
        responses={200: ocs_response(REACTIONS), 404: ocs_response(description="Unknown message")},
    )
    def get(self, request: Request, token: str, message_id: int) -> Response:
        """The reactions of a comment: emoji -> the actors who reacted with it."""
        attendee = self.get_attendee(token, lobby_rule=True)
        only = ReactionFilterInput.from_request(request)["reaction"]
        message = visible_comment(room=attendee.room, message_id=message_id)
        return Response(reactions_payload(message_reactions(message=message, reaction=only or None)))

    @extend_schema(
        request=ocs_body(ReactionInput),
        responses={
            201: ocs_response(REACTIONS, "Added"),
            200: ocs_response(REACTIONS, "The caller had already reacted so"),
            400: ocs_response(description="Not an emoji, or the message takes no reactions"),
            404: ocs_response(description="Unknown message"),
        },
    )
    def post(self, request: Request, token: str, message_id: int) -> Response:
        attendee = self.get_attendee(token, lobby_rule=True)
        reaction = ReactionInput.from_request(request)["reaction"]
        created = reactions.reaction_add(attendee=attendee, message_id=message_id, reaction=reaction)
        return self._respond(attendee, message_id, status=201 if created else 200)

    @extend_schema(
        parameters=[ReactionInput],
        responses={200: ocs_response(REACTIONS), 404: ocs_response(description="Unknown message or reaction")},
    )
    def delete(self, request: Request, token: str, message_id: int) -> Response:
        attendee = self.get_attendee(token, lobby_rule=True)
        reaction = ReactionInput.from_request(request)["reaction"]
        reactions.reaction_remove(attendee=attendee, message_id=message_id, reaction=reaction)
        return self._respond(attendee, message_id)


class ReadMarkerView(views.RoomView):
    @extend_schema(
        request=ocs_body(ReadMarkerInput),
        responses=ocs_responses(_400="lastReadMessage"),
    )
    def post(self, request: Request, token: str) -> Response:
        """Set the caller's read marker: 200 with the conversation."""
        attendee = self.get_attendee(token)
        values = ReadMarkerInput.from_request(request)
        read_markers.chat_read_marker_set(attendee=attendee, last_read_message=values["lastReadMessage"])
        return self.room_response(attendee.room)

    def delete(self, request: Request, token: str) -> Response:
        """Mark the conversation unread (the newest comment becomes unread): 200 with the
        conversation."""
        attendee = self.get_attendee(token)
        read_markers.chat_mark_unread(attendee=attendee)
        return self.room_response(attendee.room)


class MentionsView(views.RoomView):
    @extend_schema(
        parameters=[MentionsInput],
        responses=ocs_responses(_400="search, limit, includeStatus"),
    )
    def get(self, request: Request, token: str) -> Response:
        """Mention suggestions: the conversation's participants matching ``search`` and the
        conversation itself (``all``)."""
        attendee = self.get_attendee(token, lobby_rule=True)
        chat_write_check(attendee)  # Talk: only those who may write get suggestions (403)
        values = MentionsInput.from_request(request)
        return Response(
            mention_suggestions(
                attendee=attendee,
                search=values["search"],
                limit=values["limit"],
                include_status=values["includeStatus"],
            )
        )


POLL_ID = OpenApiParameter(
    "poll_id", OpenApiTypes.INT, OpenApiParameter.PATH, pattern="^[0-9]+$", description="Poll id"
)
POLL_ERRORS = {
    400: ocs_response(description="Invalid input or state (no error key)"),
    404: ocs_response(description="Unknown poll"),
}


class PollCreateView(views.RoomView):
    @extend_schema(
        request=ocs_body(PollCreateInput),
        responses={201: ocs_response(description="The poll"), **POLL_ERRORS},
    )
    def post(self, request: Request, token: str) -> Response:
        """Create a poll (group and public conversations; chat permission, not read-only) and
        share it into the chat: 201 with the poll."""
        attendee = self.get_attendee(token, lobby_rule=True)
        values = PollCreateInput.from_request(request)
        poll = polls.poll_create(
            attendee=attendee,
            question=values["question"],
            options=values["options"],
            result_mode=values["resultMode"],
            max_votes=values["maxVotes"],
        )
        return Response(poll_payload(poll, viewer=attendee), status=201)


@extend_schema(parameters=[POLL_ID])
class PollView(views.RoomView):
    @extend_schema(responses={200: ocs_response(description="The poll"), **POLL_ERRORS})
    def get(self, request: Request, token: str, poll_id: int) -> Response:
        attendee = self.get_attendee(token, lobby_rule=True)
        return Response(poll_payload(polls.poll_get(attendee=attendee, poll_id=poll_id), viewer=attendee))

    @extend_schema(
        request=ocs_body(PollVoteInput),
        responses={200: ocs_response(description="The poll"), **POLL_ERRORS},
    )
    def post(self, request: Request, token: str, poll_id: int) -> Response:
        """Vote (replacing the caller's earlier votes)."""
        attendee = self.get_attendee(token, lobby_rule=True)
        option_ids = PollVoteInput.from_request(request)["optionIds"]
        poll = polls.poll_vote(attendee=attendee, poll_id=poll_id, option_ids=option_ids)
        return Response(poll_payload(poll, viewer=attendee))

    @extend_schema(responses={200: ocs_response(description="The poll"), 403: ocs_response(), **POLL_ERRORS})
    def delete(self, request: Request, token: str, poll_id: int) -> Response:
        """Close the poll (its author or a moderator)."""
        attendee = self.get_attendee(token, lobby_rule=True)
        poll = polls.poll_close(attendee=attendee, poll_id=poll_id)
        return Response(poll_payload(poll, viewer=attendee))


@extend_schema(parameters=[MESSAGE_ID])
class ReminderView(views.RoomView):
    def _respond(self, reminder: Reminder, attendee: Attendee, *, status: int = 200) -> Response:
        return Response(reminder_payload(reminder, user_id=attendee.actor_id, token=attendee.room.token), status=status)

    @extend_schema(
        request=ocs_body(ReminderInput),
        responses={**ocs_responses(201, _400="timestamp", _404="message")},
    )
    def post(self, request: Request, token: str, message_id: int) -> Response:
        """Set the caller's reminder of a message: 201 with it."""
        attendee = self.get_attendee(token, lobby_rule=True)
        when = ReminderInput.from_request(request)["timestamp"]
        reminder = reminders.reminder_set(attendee=attendee, message_id=message_id, timestamp=when)
        return self._respond(reminder, attendee, status=201)

    @extend_schema(responses=ocs_responses(_404="message, reminder"))
    def get(self, request: Request, token: str, message_id: int) -> Response:
        attendee = self.get_attendee(token, lobby_rule=True)
        return self._respond(reminders.reminder_get(attendee=attendee, message_id=message_id), attendee)

    @extend_schema(responses=ocs_responses(_404="message"))
    def delete(self, request: Request, token: str, message_id: int) -> Response:
        attendee = self.get_attendee(token, lobby_rule=True)
        reminders.reminder_delete(attendee=attendee, message_id=message_id)
        return Response([])


class UpcomingRemindersView(OCSView):
    def get(self, request: Request) -> Response:
        """The caller's next reminders (at most 10), soonest first."""
        return Response(upcoming_reminders_payload(user=authenticated_user(request)))
