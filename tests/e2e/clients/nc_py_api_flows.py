"""Talk flows run with Nextcloud's own client ``nc_py_api``, in an interpreter of its own.

nc_py_api depends on niquests, whose ``urllib3-future`` replaces ``urllib3`` in the environment it
is installed into and breaks ``requests`` (which the fuzz test uses), so it lives in a separate
virtualenv (``make .venv-clients``). Usage: ``python nc_py_api_flows.py URL TOKEN PASSWORD``;
prints ``ok <flow>`` per flow and exits non-zero on the first failure.
"""

from __future__ import annotations

import struct
import sys
import zlib

from nc_py_api import Nextcloud
from nc_py_api.talk import NotificationLevel


def chat(url: str, token: str, password: str) -> None:
    teacher = Nextcloud(nextcloud_url=url, nc_auth_user="teacher", nc_auth_pass=password)
    student = Nextcloud(nextcloud_url=url, nc_auth_user="student1", nc_auth_pass=password)
    conversation = teacher.talk.get_conversation_by_token(token)  # needs X-Nextcloud-Talk-Hash
    message = teacher.talk.send_message("Welcome to the class", conversation)
    added = student.talk.react_to_message(message, "👍")
    listed = teacher.talk.get_message_reactions(message)
    removed = student.talk.delete_reaction(message, "👍")
    history = teacher.talk.receive_messages(conversation, limit=5)
    deleted = teacher.talk.delete_message(message)
    assert conversation.token == token
    assert [r.actor_id for r in added["👍"]] == ["student1"]
    assert [r.actor_id for r in listed["👍"]] == ["student1"]
    assert removed == {}
    # Newest first; Talk's hidden reaction system messages (reaction_deleted, reaction_revoked) come too.
    assert [m.message_id for m in history if not m.system_message][0] == message.message_id
    assert "reaction_revoked" in {m.system_message for m in history}
    assert deleted.system_message == "message_deleted"


def settings(url: str, token: str, password: str) -> None:
    teacher = Nextcloud(nextcloud_url=url, nc_auth_user="teacher", nc_auth_pass=password)
    teacher.talk.set_conversation_fav(token, True)
    teacher.talk.set_conversation_notify_lvl(token, NotificationLevel.ALWAYS_NOTIFY)
    teacher.talk.set_conversation_readonly(token, True)
    locked = teacher.talk.get_conversation_by_token(token)
    teacher.talk.set_conversation_readonly(token, False)
    teacher.talk.set_conversation_fav(token, False)
    unlocked = teacher.talk.get_conversation_by_token(token)
    assert (locked.is_favorite, locked.notification_level, locked.read_only) == (
        True,
        NotificationLevel.ALWAYS_NOTIFY,
        True,
    )
    assert (unlocked.is_favorite, unlocked.read_only) == (False, False)


def poll(url: str, token: str, password: str) -> None:
    teacher = Nextcloud(nextcloud_url=url, nc_auth_user="teacher", nc_auth_pass=password)
    student = Nextcloud(nextcloud_url=url, nc_auth_user="student1", nc_auth_pass=password)
    created = teacher.talk.create_poll(token, "Lunch?", ["Pizza", "Salad"], hidden_results=False)
    voted = student.talk.vote_poll([1], created)
    closed = teacher.talk.close_poll(created)
    assert (created.question, created.options) == ("Lunch?", ["Pizza", "Salad"])
    assert (voted.voted_self, voted.votes) == ([1], {"option-1": 1})
    assert closed.closed
    assert [(d.actor_id, d.option) for d in closed.details] == [("student1", 1)]


def square_png(size: int = 16) -> bytes:
    """A red ``size`` x ``size`` PNG, built by hand (no image library in this virtualenv)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def avatar(url: str, token: str, password: str) -> None:
    teacher = Nextcloud(nextcloud_url=url, nc_auth_user="teacher", nc_auth_pass=password)
    student = Nextcloud(nextcloud_url=url, nc_auth_user="student1", nc_auth_pass=password)
    before = teacher.talk.get_conversation_by_token(token)
    uploaded = teacher.talk.set_conversation_avatar(token, square_png())
    picture = student.talk.get_conversation_avatar(token)
    dark = student.talk.get_conversation_avatar(token, dark=True)
    emoji = teacher.talk.set_conversation_avatar(token, ("🎓", None))
    svg = student.talk.get_conversation_avatar(token)
    removed = teacher.talk.delete_conversation_avatar(token)
    assert not before.is_custom_avatar
    assert uploaded.is_custom_avatar and uploaded.avatar_version != before.avatar_version
    assert picture.startswith(b"\x89PNG") and dark == picture
    assert emoji.is_custom_avatar and svg.startswith(b"<svg") and "🎓" in svg.decode()
    assert not removed.is_custom_avatar and removed.avatar_version != emoji.avatar_version


def conversations(url: str, token: str, password: str) -> None:
    teacher = Nextcloud(nextcloud_url=url, nc_auth_user="teacher", nc_auth_pass=password)
    student = Nextcloud(nextcloud_url=url, nc_auth_user="student1", nc_auth_pass=password)
    teacher.talk.send_message("Read this", token)
    unread = {c.token: c for c in student.talk.get_user_conversations()}[token]
    created = teacher.talk.create_conversation(2, room_name="Project group")
    teacher.talk.rename_conversation(created, "Project team")
    teacher.talk.set_conversation_description(created, "Where the team meets")
    teacher.talk.set_conversation_public(created, True)
    teacher.talk.set_conversation_password(created, "a-long-room-password")
    renamed = teacher.talk.get_conversation_by_token(created)
    participants = teacher.talk.list_participants(created)
    teacher.talk.delete_conversation(created)
    assert unread.unread_messages_count >= 1 and unread.last_message.message == "Read this"
    assert (renamed.display_name, renamed.description, renamed.has_password) == (
        "Project team",
        "Where the team meets",
        True,
    )
    assert [p.actor_id for p in participants] == ["teacher"]
    assert created.token not in {c.token for c in teacher.talk.get_user_conversations()}


FLOWS = {"chat": chat, "settings": settings, "poll": poll, "avatar": avatar, "conversations": conversations}

if __name__ == "__main__":
    url, token, password = sys.argv[1:4]
    for name, flow in FLOWS.items():
        flow(url, token, password)
        print("ok", name, flush=True)
