"""``/room/{token}/avatar``: the conversation picture, uploaded (``POST`` with a multipart
``file``), served (``GET``, ``?darkTheme=1`` or ``/avatar/dark`` for the dark variant) and
removed (``DELETE``). The emoji avatar lives in ``room_extra_views``."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import authenticated_user
from conversations import views
from conversations.models import Conversation
from conversations.services import avatar_images, avatars
from project.ocs.inputs import OcsInputSerializer, StrictBooleanField
from project.ocs.schema import ocs_responses, query_param

IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")


UPLOAD_BODY = {
    "type": "object",
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "A square PNG or JPEG image, at most 20 MiB (AVATAR_MAX_UPLOAD_BYTES)",
        }
    },
    "required": ["file"],
}


class AvatarThemeInput(OcsInputSerializer):
    darkTheme = StrictBooleanField(required=False, default=False)


class AvatarView(views.RoomView):
    @extend_schema(
        parameters=[query_param("darkTheme", OpenApiTypes.BOOL, description="The dark variant")],
        responses={(200, media): OpenApiTypes.BINARY for media in IMAGE_TYPES}
        | {404: OpenApiResponse(description="Unknown conversation")},
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        """The conversation's picture: the uploaded image, else an SVG (its emoji, else its
        initial)."""
        attendee = self.get_attendee(token)
        dark = AvatarThemeInput.from_request(request)["darkTheme"]
        return picture_response(attendee.room, dark=dark)

    @extend_schema(
        request={"multipart/form-data": UPLOAD_BODY},
        responses=ocs_responses(_400="file (with Talk's message), type", _403="(no key)", _404="(no key)"),
    )
    def post(self, request: Request, token: str) -> Response:
        """Upload the conversation's picture (moderators; not in one-to-one conversations):
        200 with the conversation, ``isCustomAvatar`` true and a new ``avatarVersion``."""
        attendee = self.get_attendee(token, moderator=True)
        upload = request.FILES.get("file")
        room = avatar_images.conversation_avatar_image_set(
            actor=authenticated_user(request), attendee=attendee, upload=upload
        )
        return self.room_response(room)

    def delete(self, request: Request, token: str) -> Response:
        """Remove the custom picture (moderators): 200 with the conversation."""
        attendee = self.get_attendee(token, moderator=True)
        room = avatars.conversation_avatar_delete(actor=self.actor, attendee=attendee)
        return self.room_response(room)


class AvatarDarkView(views.RoomView):
    @extend_schema(responses={(200, media): OpenApiTypes.BINARY for media in IMAGE_TYPES})
    def get(self, request: Request, token: str) -> HttpResponse:
        """The conversation's picture for a dark theme."""
        attendee = self.get_attendee(token)
        return picture_response(attendee.room, dark=True)


def picture_response(room: Conversation, *, dark: bool) -> HttpResponse:
    picture = avatar_images.avatar_image_get(room)
    if picture is not None:  # Talk serves an uploaded picture as it is, in both themes
        response = HttpResponse(bytes(picture.image), content_type=picture.mime_type)
    else:
        response = HttpResponse(avatars.avatar_svg(room, dark=dark), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=86400"  # clients key the cache on avatarVersion
    response["X-Content-Type-Options"] = "nosniff"
    return response
