"""Talk flows run with Nextcloud's own client ``nc_py_api``, in an interpreter of its own.

nc_py_api depends on niquests, whose ``urllib3-future`` replaces ``urllib3`` in the environment it
is installed into and breaks ``requests`` (which the fuzz test uses), so it lives in a separate
virtualenv (``make .venv-clients``). Usage: ``python nc_py_api_flows.py URL TOKEN PASSWORD``;
prints ``ok <flow>`` per flow and exits non-zero on the first failure.
"""

from __future__ import annotations

import sys

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
    assert history[0].message_id == message.message_id
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


FLOWS = {"chat": chat, "settings": settings, "poll": poll}

if __name__ == "__main__":
    url, token, password = sys.argv[1:4]
    for name, flow in FLOWS.items():
        flow(url, token, password)
        print("ok", name, flush=True)
