"""Uploaded conversation pictures: ``POST /room/{token}/avatar`` with a multipart ``file``, as in
Talk's docs/avatar.md and its AvatarService (PNG or JPEG, square, at most 20 MiB, not for
one-to-one conversations), served by ``GET /room/{token}/avatar`` and removed by ``DELETE``."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from breakout.services.lifecycle import breakout_remove
from conversations.models import Attendee, Conversation, ConversationAvatar
from tests.conftest import OCS, ocs_data
from tests.conversations.helpers import breakout_rooms_build
from tests.factories import AttendeeFactory, ConversationFactory
from tests.helpers import system_messages

ClientFor = Callable[[User], APIClient]


def avatar_url(room: Conversation, suffix: str = "") -> str:
    return f"{OCS}/apps/spreed/api/v1/room/{room.token}/avatar{suffix}"


def image_bytes(width: int = 64, height: int = 64, image_format: str = "PNG", color: str = "red") -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (width, height), color).save(output, format=image_format)
    return output.getvalue()


def upload(content: bytes, name: str = "picture.png") -> dict[str, SimpleUploadedFile]:
    return {"file": SimpleUploadedFile(name, content, content_type="application/octet-stream")}


def test_a_moderator_uploads_a_png_and_everyone_gets_it(
    client_for: ClientFor, room: Conversation, moderator: User, student: User
) -> None:
    version = room.avatar_version

    response = client_for(moderator).post(avatar_url(room), upload(image_bytes()), format="multipart")

    assert response.status_code == 200, response.content
    data = ocs_data(response)
    assert data["isCustomAvatar"] is True
    assert data["avatarVersion"] != version
    assert data["token"] == room.token
    served = client_for(student).get(avatar_url(room))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(served.content)) as picture:
        assert (picture.format, picture.size) == ("PNG", (64, 64))
        assert picture.convert("RGB").getpixel((10, 10)) == (255, 0, 0)
    assert system_messages(room) == ["avatar_set"]


@pytest.mark.parametrize("suffix", ["/dark", "?darkTheme=1", "?darkTheme=true"])
def test_the_dark_variant_of_an_uploaded_picture_is_the_picture(
    client_for: ClientFor, room: Conversation, owner: User, suffix: str
) -> None:
    client_for(owner).post(avatar_url(room), upload(image_bytes(image_format="JPEG"), "a.jpg"), format="multipart")

    light = client_for(owner).get(avatar_url(room))
    dark = client_for(owner).get(avatar_url(room, suffix))

    assert light["Content-Type"] == dark["Content-Type"] == "image/jpeg"
    assert dark.content == light.content


def test_dark_theme_selects_the_dark_svg_without_an_upload(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    client_for(owner).post(avatar_url(room, "/emoji"), {"emoji": "🎓"}, format="json")

    light = client_for(owner).get(avatar_url(room)).content
    dark = client_for(owner).get(avatar_url(room, "?darkTheme=1")).content

    assert b"#dbdbdb" in light and b"#3b3b3b" in dark
    assert client_for(owner).get(avatar_url(room, "?darkTheme=maybe")).status_code == 400


def test_a_large_picture_is_stored_scaled_down_to_512_pixels_without_its_metadata(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    source = Image.new("RGB", (1500, 1500), "blue")
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    output = io.BytesIO()
    source.save(output, format="JPEG", exif=exif)

    response = client_for(owner).post(avatar_url(room), upload(output.getvalue(), "big.jpg"), format="multipart")

    assert response.status_code == 200
    stored = ConversationAvatar.objects.get(room=room)
    with Image.open(io.BytesIO(bytes(stored.image))) as picture:
        assert picture.size == (512, 512)
        assert not picture.getexif()
    assert stored.mime_type == "image/jpeg"


def test_the_exif_orientation_is_applied_before_the_square_check(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    output = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: 100 x 50 stored, shown 50 x 100: still not square
    Image.new("RGB", (100, 50), "green").save(output, format="JPEG", exif=exif)

    response = client_for(owner).post(avatar_url(room), upload(output.getvalue()), format="multipart")

    assert response.status_code == 400
    assert ocs_data(response) == {"error": "file", "message": "Avatar image is not square"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (image_bytes(64, 32), "Avatar image is not square"),
        (b"not an image at all", "Invalid image"),
        (image_bytes()[:40], "Invalid image"),
        (image_bytes(image_format="GIF"), "Unknown filetype"),
        (image_bytes(image_format="BMP"), "Unknown filetype"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "Invalid image"),
    ],
    ids=["not square", "not an image", "truncated", "gif", "bmp", "svg"],
)
def test_files_talk_refuses_answer_400_file_with_talks_message_and_change_nothing(
    client_for: ClientFor, room: Conversation, owner: User, content: bytes, message: str
) -> None:
    version = room.avatar_version

    response = client_for(owner).post(avatar_url(room), upload(content), format="multipart")

    assert response.status_code == 400
    assert ocs_data(response) == {"error": "file", "message": message}
    stored = Conversation.objects.get(pk=room.pk)
    assert (stored.avatar_version, stored.avatar_mime) == (version, "")
    assert not ConversationAvatar.objects.exists()
    assert system_messages(room) == []


def test_no_file_answers_400_file(client_for: ClientFor, room: Conversation, owner: User) -> None:
    response = client_for(owner).post(avatar_url(room), {"other": "x"}, format="multipart")

    assert response.status_code == 400
    assert ocs_data(response) == {"error": "file", "message": "No image file provided"}


def test_a_file_over_the_limit_is_too_big(
    client_for: ClientFor, room: Conversation, owner: User, settings: object
) -> None:
    settings.AVATAR_MAX_UPLOAD_BYTES = 2000  # type: ignore[attr-defined]
    content = image_bytes(400, 400, image_format="BMP")  # 480 kB, under the request limit

    response = client_for(owner).post(avatar_url(room), upload(content), format="multipart")

    assert response.status_code == 400
    assert ocs_data(response) == {"error": "file", "message": "File is too big"}


def test_a_request_larger_than_the_avatar_limit_is_refused_before_it_is_read(
    client_for: ClientFor, room: Conversation, owner: User, settings: object
) -> None:
    settings.AVATAR_MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # type: ignore[attr-defined]
    big = b"x" * (3 * 1024 * 1024)

    response = client_for(owner).post(avatar_url(room), upload(big), format="multipart")

    assert response.status_code == 413


def test_a_picture_over_the_ordinary_body_limit_is_accepted(
    client_for: ClientFor, room: Conversation, owner: User, settings: object
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096  # type: ignore[attr-defined]
    content = image_bytes(300, 300, image_format="PNG", color="white")
    noisy = Image.effect_noise((300, 300), 100).convert("RGB")
    output = io.BytesIO()
    noisy.save(output, format="PNG")
    assert len(output.getvalue()) > 4096 and len(content) > 0

    response = client_for(owner).post(avatar_url(room), upload(output.getvalue()), format="multipart")

    assert response.status_code == 200


def test_students_get_403_and_outsiders_404(
    client_for: ClientFor, room: Conversation, student: User, outsider: User
) -> None:
    assert client_for(student).post(avatar_url(room), upload(image_bytes()), format="multipart").status_code == 403
    assert client_for(outsider).post(avatar_url(room), upload(image_bytes()), format="multipart").status_code == 404
    assert not ConversationAvatar.objects.exists()


def test_a_one_to_one_conversation_takes_no_picture(client_for: ClientFor, owner: User, student: User) -> None:
    one_to_one = ConversationFactory(type=Conversation.Type.ONE_TO_ONE, name="owner,student")
    AttendeeFactory(room=one_to_one, user=student, participant_type=Attendee.ParticipantType.OWNER)

    response = client_for(student).post(avatar_url(one_to_one), upload(image_bytes()), format="multipart")

    assert response.status_code == 400
    assert ocs_data(response) == {"error": "type"}


def test_deleting_returns_to_the_default_picture(client_for: ClientFor, room: Conversation, owner: User) -> None:
    client_for(owner).post(avatar_url(room), upload(image_bytes()), format="multipart")
    version = Conversation.objects.get(pk=room.pk).avatar_version

    response = client_for(owner).delete(avatar_url(room))

    assert response.status_code == 200
    assert ocs_data(response)["isCustomAvatar"] is False
    assert ocs_data(response)["avatarVersion"] != version
    served = client_for(owner).get(avatar_url(room))
    assert served["Content-Type"] == "image/svg+xml"
    assert ">C</text>" in served.content.decode()
    assert not ConversationAvatar.objects.exists()
    assert system_messages(room) == ["avatar_set", "avatar_removed"]


def test_an_emoji_replaces_an_uploaded_picture_and_the_other_way_round(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    client = client_for(owner)
    client.post(avatar_url(room), upload(image_bytes()), format="multipart")

    client.post(avatar_url(room, "/emoji"), {"emoji": "🎓"}, format="json")

    assert client.get(avatar_url(room))["Content-Type"] == "image/svg+xml"
    assert not ConversationAvatar.objects.exists()

    response = client.post(avatar_url(room), upload(image_bytes()), format="multipart")

    assert ocs_data(response)["isCustomAvatar"] is True
    assert client.get(avatar_url(room))["Content-Type"] == "image/png"
    assert Conversation.objects.get(pk=room.pk).avatar_emoji == ""


def test_a_breakout_room_takes_a_picture(client_for: ClientFor, room: Conversation, owner: User) -> None:
    breakout = breakout_rooms_build(room, count=1, started=True)[0]

    response = client_for(owner).post(avatar_url(breakout), upload(image_bytes()), format="multipart")

    assert response.status_code == 200
    assert client_for(owner).get(avatar_url(breakout))["Content-Type"] == "image/png"


def test_the_conversation_list_shows_the_custom_picture(client_for: ClientFor, room: Conversation, owner: User) -> None:
    client_for(owner).post(avatar_url(room), upload(image_bytes()), format="multipart")

    rooms = ocs_data(client_for(owner).get(f"{OCS}/apps/spreed/api/v4/room"))

    assert [r["isCustomAvatar"] for r in rooms if r["token"] == room.token] == [True]


def test_a_picture_with_too_many_pixels_is_refused_before_it_is_decoded(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    bomb = image_bytes(6000, 6000, image_format="PNG", color="white")  # small file, 36 megapixels

    response = client_for(owner).post(avatar_url(room), upload(bomb), format="multipart")

    assert len(bomb) < 200_000
    assert response.status_code == 400
    assert ocs_data(response) == {"error": "file", "message": "Invalid image"}


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_greyscale_and_cmyk_photos_are_stored_as_jpeg(
    client_for: ClientFor, room: Conversation, owner: User, mode: str
) -> None:
    output = io.BytesIO()
    Image.new(mode, (900, 900)).save(output, format="JPEG")

    response = client_for(owner).post(avatar_url(room), upload(output.getvalue(), "photo.jpg"), format="multipart")

    assert response.status_code == 200
    with Image.open(io.BytesIO(bytes(ConversationAvatar.objects.get(room=room).image))) as picture:
        assert (picture.format, picture.size) == ("JPEG", (512, 512))


# -- a deleted conversation takes its picture with it -------------------------------------------


def pictured(client_for: ClientFor, owner: User, *rooms: Conversation) -> None:
    for room in rooms:
        assert client_for(owner).post(avatar_url(room), upload(image_bytes()), format="multipart").status_code == 200


def test_deleting_a_conversation_deletes_its_picture_and_its_breakout_rooms_pictures(
    client_for: ClientFor, room: Conversation, owner: User
) -> None:
    breakout = breakout_rooms_build(room, count=1, started=True)[0]
    kept = ConversationFactory(type=Conversation.Type.GROUP)
    AttendeeFactory(room=kept, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    pictured(client_for, owner, room, breakout, kept)

    response = client_for(owner).delete(f"{OCS}/apps/spreed/api/v4/room/{room.token}")

    assert response.status_code == 200
    assert list(ConversationAvatar.objects.values_list("room_id", flat=True)) == [kept.pk]


def test_the_last_user_leaving_deletes_the_conversation_with_its_picture(client_for: ClientFor, owner: User) -> None:
    alone = ConversationFactory(type=Conversation.Type.GROUP)
    AttendeeFactory(room=alone, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    pictured(client_for, owner, alone)

    response = client_for(owner).delete(f"{OCS}/apps/spreed/api/v4/room/{alone.token}/participants/self")

    assert response.status_code == 200
    assert not Conversation.objects.filter(pk=alone.pk).exists()
    assert not ConversationAvatar.objects.exists()


def test_removing_breakout_rooms_deletes_their_pictures(client_for: ClientFor, room: Conversation, owner: User) -> None:
    rooms = breakout_rooms_build(room, count=2, started=True)
    pictured(client_for, owner, room, *rooms)

    breakout_remove(actor=owner, parent=room)

    assert list(ConversationAvatar.objects.values_list("room_id", flat=True)) == [room.pk]
