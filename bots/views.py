"""Talk's bot endpoints (``bots-v1``).

Moderators (``/v1/bot/{token}``, ``/v1/bot/{token}/{botId}``): logged in, a moderator of the
conversation (outsiders 404, others 403), as Talk's RequireLoggedInModeratorParticipant.

Bots (``/v1/bot/{token}/message``, ``/v1/bot/{token}/reaction/{messageId}``): no login; the request
is signed with the secret of a bot set up in the conversation (``X-Nextcloud-Talk-Bot-Random``,
``X-Nextcloud-Talk-Bot-Signature``: HMAC-SHA256 over the random and the message or reaction). A
missing or short random or a missing signature is 400; a signature of no bot of the conversation,
a replayed random, an unknown conversation or a bot without the ``response`` feature is 401 and
counts for the brute-force guard.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from bots import services
from bots.presenters import bot_payload
from bots.selectors import bots_for_admins, bots_for_moderators, room_for_bot
from bots.serializers import BotMessageInput, BotReactionInput
from bots.signing import MIN_RANDOM_LENGTH
from conversations.models import Conversation
from conversations.views import RoomView
from project.errors import BadRequest, Forbidden
from project.ocs.schema import ocs_body, ocs_response, ocs_responses, query_param
from project.ocs.views import OCSView

BOT = {
    "type": "object",
    "required": ["id", "name", "description", "state"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "description": {"type": "string", "nullable": True},
        "state": {
            "type": "integer",
            "enum": [0, 1, 2],
            "description": "0 not set up, 1 set up, 2 set up (no-setup bot)",
        },
    },
}
BOT_ID = OpenApiParameter("bot_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the bot")
MESSAGE_ID = OpenApiParameter("message_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the message")
SIGNATURE_HEADERS = [
    OpenApiParameter(
        "X-Nextcloud-Talk-Bot-Random",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description=f"A random string of at least {MIN_RANDOM_LENGTH} characters, never reused",
    ),
    OpenApiParameter(
        "X-Nextcloud-Talk-Bot-Signature",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="hex HMAC-SHA256 with the bot's secret over the random followed by the message (or reaction)",
    ),
]
BOT_ERRORS = {
    400: ocs_response(description="Missing or short random, missing signature, bad input"),
    401: ocs_response(description="No bot of the conversation signed this (counts for the brute-force guard)"),
}


class BotAdminListView(OCSView):
    @extend_schema(
        responses={200: ocs_response({"type": "array", "items": {"type": "object"}}), **ocs_responses(_403="(no key)")}
    )
    def get(self, request: Request) -> Response:
        """Every installed bot with its URL, features and errors, without the secret (Talk's
        ``adminListBots``; operators only: superusers)."""
        if not request.user.is_superuser:
            raise Forbidden()
        return Response(bots_for_admins())


class BotListView(RoomView):
    @extend_schema(responses={200: ocs_response({"type": "array", "items": BOT}), **ocs_responses()})
    def get(self, request: Request, token: str) -> Response:
        """The installed bots as the conversation sees them (moderators)."""
        attendee = self.get_attendee(token, moderator=True)
        return Response(bots_for_moderators(room=attendee.room))


@extend_schema(parameters=[BOT_ID])
class BotSetupView(RoomView):
    @extend_schema(
        request=None,
        responses={
            201: ocs_response(BOT, "Set up"),
            200: ocs_response(BOT, "Already set up"),
            **{k: v for k, v in ocs_responses(_400="bot, room").items() if k != 200},
        },
    )
    def post(self, request: Request, token: str, bot_id: int) -> Response:
        """Set a bot up in the conversation (moderators; only bots in state enabled). The bot
        receives a Join webhook, then the conversation's messages (and reactions)."""
        attendee = self.get_attendee(token, moderator=True)
        result = services.bot_conversation_enable(room=attendee.room, bot_id=bot_id, moderator=attendee)
        return Response(bot_payload(result.bot, set_up=True), status=201 if result.created else 200)

    @extend_schema(responses={200: ocs_response(BOT), **ocs_responses(_400="bot")})
    def delete(self, request: Request, token: str, bot_id: int) -> Response:
        """Remove a bot from the conversation (moderators; only bots in state enabled). The bot
        receives a Leave webhook."""
        attendee = self.get_attendee(token, moderator=True)
        bot = services.bot_conversation_disable(room=attendee.room, bot_id=bot_id, moderator=attendee)
        return Response(bot_payload(bot, set_up=False))


class BotRequestView(OCSView):
    """Requests of bots: authenticated by their signature only."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def bot_for(self, token: str, text: str) -> tuple[services.Bot, Conversation]:
        room = room_for_bot(token=token)
        bot = services.bot_authenticate(
            room=room,
            random=self.request.headers.get("X-Nextcloud-Talk-Bot-Random", ""),
            given=self.request.headers.get("X-Nextcloud-Talk-Bot-Signature", ""),
            text=text,
        )
        assert room is not None  # bot_authenticate refuses an unknown conversation
        return bot, room


class BotMessageView(BotRequestView):
    @extend_schema(
        auth=[],
        parameters=SIGNATURE_HEADERS,
        request=ocs_body(BotMessageInput),
        responses={201: ocs_response(description="Posted"), **BOT_ERRORS, 413: ocs_response(description="Too long")},
    )
    def post(self, request: Request, token: str) -> Response:
        """Post a message as the bot (bots with the ``response`` feature). It appears with actor
        type ``bots``, actor id ``bot-<sha1 of the bot's URL>`` and display name ``<name> (Bot)``."""
        values = BotMessageInput.from_request(request)
        if not values["message"].strip():
            raise BadRequest()
        bot, room = self.bot_for(token, values["message"])
        services.bot_message_post(
            bot=bot,
            room=room,
            message=values["message"],
            reply_to=values["replyTo"],
            reference_id=values["referenceId"],
            silent=values["silent"],
        )
        return Response(None, status=201)


@extend_schema(parameters=[MESSAGE_ID, *SIGNATURE_HEADERS])
class BotReactionView(BotRequestView):
    @extend_schema(
        auth=[],
        request=ocs_body(BotReactionInput),
        responses={
            201: ocs_response(description="Reacted"),
            200: ocs_response(description="The bot had already reacted so"),
            **BOT_ERRORS,
        },
    )
    def post(self, request: Request, token: str, message_id: int) -> Response:
        """React to a message as the bot. Not an emoji, a system message or a message of another
        conversation: 400."""
        values = BotReactionInput.from_request(request)
        bot, room = self.bot_for(token, values["reaction"])
        added = services.bot_reaction_add(bot=bot, room=room, message_id=message_id, reaction=values["reaction"])
        return Response(None, status=201 if added else 200)

    @extend_schema(
        auth=[],
        request=None,
        parameters=[query_param("reaction", OpenApiTypes.STR, description="The emoji; signed: random + reaction")],
        responses={
            200: ocs_response(description="Removed"),
            **BOT_ERRORS,
            404: ocs_response(description="No such message in the conversation, or no such reaction of the bot"),
        },
    )
    def delete(self, request: Request, token: str, message_id: int) -> Response:
        """Remove the bot's reaction from a message."""
        values = BotReactionInput.from_request(request)
        bot, room = self.bot_for(token, values["reaction"])
        services.bot_reaction_remove(bot=bot, room=room, message_id=message_id, reaction=values["reaction"])
        return Response(None)
