"""Talk flows run with the PyPI client ``nextcloud-talk-core`` (an httpx OCS client for Talk),
unchanged, in the clients' virtualenv (``make .venv-clients``). Usage: ``python
talk_core_flows.py URL TOKEN PASSWORD``; prints ``ok <flow>`` per flow and exits non-zero on the
first failure. It sends form bodies, also on DELETE (reactions), as Talk accepts them."""

from __future__ import annotations

import sys
import time

from nextcloud_talk_core import TalkClient
from nextcloud_talk_core.config import Settings


def client(url: str, user: str, password: str) -> TalkClient:
    return TalkClient(Settings(nc_url=url, nc_user=user, nc_app_password=password), max_retries=0)


def chat(url: str, token: str, password: str) -> None:
    with client(url, "teacher", password) as teacher, client(url, "student1", password) as student:
        sent = student.send_message(token, "First draft")
        edited = student.edit_message(token, sent.id, "Final version")
        page = teacher.read_messages(token, limit=5)
        mentions = student.list_mentions(token)
        student.mark_as_read(token)
        read = {c.token: c for c in student.list_conversations()}[token]
        teacher.send_message(token, "New for the students")
        student.mark_as_unread(token)
        unread = {c.token: c for c in student.list_conversations()}[token]
        deleted = teacher.delete_message(token, sent.id)
    assert edited.message  # the message_edited system message
    assert page[0].message == "Final version" or any(m.message == "Final version" for m in page)
    assert {m.id for m in mentions} >= {"teacher", "all"}
    assert read.unread == 0
    assert unread.unread >= 1 and unread.last_message == "New for the students"
    assert deleted == "message_deleted"


def reactions(url: str, token: str, password: str) -> None:
    with client(url, "teacher", password) as teacher, client(url, "student1", password) as student:
        sent = teacher.send_message(token, "React to this")
        added = student.add_reaction(token, sent.id, "👍")
        listed = teacher.list_reactions(token, sent.id)
        only = teacher.list_reactions(token, sent.id, reaction="👍")
        removed = student.remove_reaction(token, sent.id, "👍")
    assert [r.actor_id for r in added["👍"]] == ["student1"]
    assert [r.actor_id for r in listed["👍"]] == ["student1"] == [r.actor_id for r in only["👍"]]
    assert removed == {}


def reminders(url: str, token: str, password: str) -> None:
    when = int(time.time()) + 3600
    with client(url, "student1", password) as student:
        sent = student.send_message(token, "Remind me")
        student.set_reminder(token, sent.id, when)
        stored = student.get_reminder(token, sent.id)
        student.delete_reminder(token, sent.id)
        try:
            student.get_reminder(token, sent.id)
        except Exception as error:  # Talk: 404 once deleted
            gone = type(error).__name__
        else:
            gone = "found"
    assert stored == when
    assert gone == "NextcloudNotFoundError"


def participants(url: str, token: str, password: str) -> None:
    with client(url, "teacher", password) as teacher:
        people = {p.actor_id: p for p in teacher.list_participants(token)}
        student = people["student1"]
        teacher.set_participant_permissions(token, student.attendee_id, 128 | 2, mode="set")
        changed = {p.actor_id: p for p in teacher.list_participants(token)}["student1"]
        teacher.set_participant_permissions(token, student.attendee_id, 0, mode="set")
        reset = {p.actor_id: p for p in teacher.list_participants(token)}["student1"]
    assert changed.permissions == 128 | 2 | 1  # the custom bit
    assert reset.permissions != changed.permissions


FLOWS = {"chat": chat, "reactions": reactions, "reminders": reminders, "participants": participants}

if __name__ == "__main__":
    url, token, password = sys.argv[1:4]
    for name, flow in FLOWS.items():
        flow(url, token, password)
        print("ok", name, flush=True)
