"""Uploaded conversation pictures (Talk's ``POST /room/{token}/avatar`` with a multipart
``file``). Talk's rules: not for one-to-one conversations, a PNG or JPEG image, square once its
EXIF orientation is applied, at most 20 MiB. The picture is decoded and re-encoded here (EXIF and
other metadata dropped, scaled down to 512 pixels), so what is served is always an image this
service produced. Setting one replaces an emoji avatar and the other way round
(``conversations.services.avatars``); each change bumps ``avatarVersion``."""

from __future__ import annotations

import io
import secrets
import warnings
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import User
from conversations.models import Attendee, Conversation, ConversationAvatar
from conversations.services.attendee_settings import moderator_relock
from conversations.services.primitives import SystemMessage, system_messages_post
from project.errors import BadRequest

AVATAR_PIXELS = 512  # Talk serves conversation pictures at 512 x 512
MAX_SOURCE_PIXELS = 25_000_000  # larger images are refused before they are decoded (memory)
NO_AVATAR_TYPES = (Conversation.Type.ONE_TO_ONE, Conversation.Type.FORMER_ONE_TO_ONE)
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


class AvatarRejected(BadRequest):
    """400 ``file`` with Talk's own explanation in ``message`` (Talk answers ``{"message": ...}``)."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message=message)

    @property
    def data(self) -> dict[str, str]:
        return {"error": "file", "message": self.message}


def avatar_image_prepare(content: bytes) -> tuple[bytes, str]:
    """The picture to store for an uploaded file, and its media type; Talk's checks in Talk's
    order (square, a valid image, PNG or JPEG)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(content))
            if source.width * source.height > MAX_SOURCE_PIXELS:
                raise AvatarRejected("Invalid image")
            image_format = source.format or ""
            # Talk applies the EXIF orientation first; a rotation keeps an image square or not.
            if source.width != source.height:
                raise AvatarRejected("Avatar image is not square")
            if image_format == "JPEG":
                source.draft("RGB", (AVATAR_PIXELS, AVATAR_PIXELS))  # decode a large photo scaled down
            image = ImageOps.exif_transpose(source)
            image.load()
    except AvatarRejected:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        raise AvatarRejected("Invalid image") from None
    if image_format not in FORMATS:
        raise AvatarRejected("Unknown filetype")
    if image.width != image.height:  # a JPEG decoded scaled down can be a pixel off
        image = image.resize((min(image.size),) * 2, Image.Resampling.LANCZOS)
    if image.width > AVATAR_PIXELS:
        image = image.resize((AVATAR_PIXELS, AVATAR_PIXELS), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    options: dict[str, Any] = {"optimize": True}
    if image_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options["quality"] = 90
    image.save(output, format=image_format, **options)
    return output.getvalue(), FORMATS[image_format]


def conversation_avatar_image_set(*, actor: User, attendee: Attendee, upload: UploadedFile | None) -> Conversation:
    """Moderators (403) give a group or public conversation (400 ``type``) an uploaded picture
    (400 ``file`` with Talk's message: none, too big, not an image, not square, not PNG/JPEG).
    The image is decoded before the tree lock is taken (no CPU work under the lock); the role and
    the type are checked again under it."""
    if attendee.room.type in NO_AVATAR_TYPES:
        raise BadRequest("type")
    if upload is None:
        raise AvatarRejected("No image file provided")
    if upload.size is None or upload.size > settings.AVATAR_MAX_UPLOAD_BYTES:
        raise AvatarRejected("File is too big")
    image, mime_type = avatar_image_prepare(upload.read())
    return _store(actor=actor, attendee=attendee, image=image, mime_type=mime_type)


@transaction.atomic
def _store(*, actor: User, attendee: Attendee, image: bytes, mime_type: str) -> Conversation:
    # The lock orders this against a demotion, a removal or another picture of the same tree:
    # the last committed picture and its avatarVersion always belong together.
    attendee = moderator_relock(attendee)
    room = attendee.room
    if room.type in NO_AVATAR_TYPES:
        raise BadRequest("type")
    ConversationAvatar.objects.update_or_create(room=room, defaults={"image": image, "mime_type": mime_type})
    room.avatar_emoji, room.avatar_color, room.avatar_mime = "", "", mime_type
    room.avatar_version = secrets.token_hex(8)
    Conversation.objects.filter(pk=room.pk).update(
        avatar_emoji="", avatar_color="", avatar_mime=mime_type, avatar_version=room.avatar_version
    )
    system_messages_post(actor=actor, messages=[SystemMessage(room_id=room.pk, key="avatar_set")])
    return room


def avatar_image_get(room: Conversation) -> ConversationAvatar | None:
    """The uploaded picture of ``room``, if it has one."""
    if not room.avatar_mime:
        return None
    return ConversationAvatar.objects.filter(room_id=room.pk).first()
