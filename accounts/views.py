"""Server-level OCS endpoints: capabilities, the current user and app passwords.

The capabilities live here because the one value in them that changes at run time is app config
(the ``breakout_rooms`` switch); the feature flags are a fixed declaration of what this service
implements, so no other app is imported for them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import AppPasswordCredential, authenticated_user
from accounts.selectors import breakout_rooms_enabled
from accounts.services import app_password_create
from project.errors import Forbidden
from project.ocs.schema import ocs_envelope_schema
from project.ocs.views import OCSView

# The Nextcloud server version whose OCS API this service follows; clients gate features on it.
NEXTCLOUD_VERSION = {"major": 30, "minor": 0, "micro": 0, "string": "30.0.0", "edition": "", "extendedSupport": False}

# Talk feature flags of what this service really implements (Talk's lib/Capabilities.php lists more).
TALK_FEATURES = [
    "conversation-v4",
    "chat-v2",
    "empty-group-room",
    "multi-room-users",
    "last-room-activity",
    "system-messages",
    "invite-groups-and-mails",
    "locked-one-to-one-rooms",
    "listable-rooms",
    "webinary-lobby",
    "room-description",
    "breakout-rooms-v1",
    "breakout-rooms-assignment",  # extension: seed, constraints, shuffle, dry runs, templates, history
    "breakout-rooms-timer",  # extension: duration on start, PUT/DELETE .../timer, grace on stop, breakoutRoomEndsAt
    "breakout-rooms-names",  # extension: names on configure, unique names within a parent
    "breakout-rooms-single",  # extension: POST/DELETE /v1/breakout-rooms/{breakoutToken}/open
    "breakout-rooms-assistance-queue",  # extension: GET .../assistance, POST .../assistance/claim
    "breakout-events",  # extension: GET /api/v1/events, every state change as a server-sent event
    "message-expiration",
    "bots-v1",  # webhook bots (issue 13): bots/
    # Talk surface (issue 10)
    "reactions",
    "edit-messages",
    "edit-messages-note-to-self",
    "delete-messages",
    "delete-messages-unlimited",
    "clear-history",
    "chat-read-marker",
    "chat-read-last",
    "chat-unread",
    "mention-flag",
    "direct-mention-flag",
    "favorites",
    "notification-levels",
    "notification-calls",
    "read-only-rooms",
    "conversation-permissions",
    "chat-permission",
    "talk-polls",
    "remind-me-later",
    "upcoming-reminders",
    "avatar",  # emoji and uploaded pictures, GET .../avatar and .../avatar/dark
]
TALK_LOCAL_CONFIGS = {
    "attachments": ["allowed", "folder"],
    "call": ["predefined-backgrounds", "can-upload-background", "start-without-media", "blur-virtual-background"],
    "chat": ["read-privacy", "has-translation-providers", "typing-privacy", "summary-threshold"],
    "conversations": ["can-create"],
    "federation": ["enabled", "incoming-enabled", "outgoing-enabled", "only-trusted-servers"],
    "previews": ["max-gif-size"],
    "signaling": ["session-ping-limit", "hello-v2-token-key"],
}


def talk_capabilities(*, logged_in: bool) -> dict[str, Any]:
    """The ``spreed`` capabilities in the shape of Talk's ``Capabilities::getCapabilities()``:
    calls, recording, SIP and federation are not offered by this service, so they read false."""
    return {
        "features": list(TALK_FEATURES),
        "features-local": ["listable-rooms", "favorites"],
        "config": {
            "attachments": {"allowed": False},
            "call": {
                "enabled": False,
                "breakout-rooms": breakout_rooms_enabled(),
                "recording": False,
                "recording-consent": 0,
                "supported-reactions": [],
                "predefined-backgrounds": [],
                "can-upload-background": False,
                "sip-enabled": False,
                "sip-dialout-enabled": False,
                "can-enable-sip": False,
                "start-without-media": False,
                "max-duration": 0,
                "blur-virtual-background": False,
            },
            "chat": {
                "max-length": settings.CHAT_MAX_LENGTH,
                "read-privacy": 0,
                "has-translation-providers": False,
                "typing-privacy": 0,
                "summary-threshold": 100,
            },
            "conversations": {"can-create": logged_in},
            "federation": {
                "enabled": False,
                "incoming-enabled": False,
                "outgoing-enabled": False,
                "only-trusted-servers": True,
            },
            "previews": {"max-gif-size": 3145728},
            "signaling": {"session-ping-limit": 200},
        },
        "config-local": TALK_LOCAL_CONFIGS,
        "version": settings.SPECTACULAR_SETTINGS["VERSION"],
    }


class CapabilitiesView(OCSView):
    """``GET /cloud/capabilities``: public, like Nextcloud's (logged-in users see ``can-create``)."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: ocs_envelope_schema({"type": "object", "required": ["version", "capabilities"]})})
    def get(self, request: Request) -> Response:
        logged_in = bool(request.user and request.user.is_authenticated)
        return Response(
            {
                "version": NEXTCLOUD_VERSION,
                "capabilities": {"core": {"pollinterval": 60}, "spreed": talk_capabilities(logged_in=logged_in)},
            }
        )


class CloudUserView(OCSView):
    """``GET /cloud/user``: the current user, with the keys of Nextcloud's user data that apply."""

    @extend_schema(responses={200: ocs_envelope_schema({"type": "object", "required": ["id", "display-name"]})})
    def get(self, request: Request) -> Response:
        user = authenticated_user(request)
        return Response(
            {
                "id": user.username,
                "enabled": user.is_active,
                "lastLogin": int(user.last_login.timestamp() * 1000) if user.last_login else 0,
                "backend": "Database",
                "email": user.email or None,
                "displayname": user.get_display_name(),
                "display-name": user.get_display_name(),
                "groups": sorted(user.groups.values_list("name", flat=True)),
                "language": "en",
                "locale": "",
            }
        )


class AppPasswordView(OCSView):
    """``GET /core/getapppassword``: exchange a password login for an app password. A request
    that is itself authenticated by an app password is refused with 403, as in Nextcloud."""

    @extend_schema(
        responses={
            200: ocs_envelope_schema(
                {"type": "object", "required": ["apppassword"], "properties": {"apppassword": {"type": "string"}}}
            )
        }
    )
    def get(self, request: Request) -> Response:
        if isinstance(request.auth, AppPasswordCredential):
            raise Forbidden()
        user_agent = request.META.get("HTTP_USER_AGENT", "")
        _, token = app_password_create(user=authenticated_user(request), name=user_agent[:255])
        return Response({"apppassword": token})
