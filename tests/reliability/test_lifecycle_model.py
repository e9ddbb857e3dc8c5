"""A property-based model of the breakout lifecycle, driven only through the HTTP API.

A Hypothesis state machine plays an owner, a moderator, four students and an outsider against
one group conversation: configure (modes 1, 2, 3), remove, reorganize, start, stop, switch,
assistance request and reset, promote, demote, add and remove participants, delete a
conversation, chat and rename, in any order and by anyone. After every step it checks, by
reading the database:

- no answer is a 5xx, and each status is one the contract allows for that operation and for the
  caller's role in the room at the time (not an attendee: 404; student on a moderator endpoint:
  403; otherwise success or the operation's own 400 error keys);
- the tree invariants of ``tests.reliability.invariants`` (one breakout room per student, parent
  moderators in every room, breakout rooms with mode 0 and the lobby the parent's status implies,
  started only when configured, breakout attendees are parent attendees).

The runs are bounded and replay the same examples in every run (profile ``ci``);
``HYPOTHESIS_PROFILE=hunt`` draws new ones, more of them.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.reliability.client import V1, V4, Answer, Caller, user_create
from tests.reliability.invariants import attendee_model, conversation_model, tree_violations

settings.register_profile(
    "ci",
    max_examples=15,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "hunt",
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

PASSWORD = "lifecycle-password"
OWNER, MODERATOR, OUTSIDER = "owner", "moderator", "outsider"
STUDENTS = ["student1", "student2", "student3", "student4"]
PEOPLE = [OWNER, MODERATOR, *STUDENTS, OUTSIDER]
UNKNOWN_TOKEN = "unknowntoken0"
NO_SUCH_ATTENDEE = 999_999_999

# Who calls: moderator endpoints mostly by moderators, the rest mostly by students; everyone
# (the outsider too) still gets a turn. The first value is what Hypothesis tries first.
BY_MODERATORS = st.sampled_from([OWNER, MODERATOR, OWNER, MODERATOR, STUDENTS[0], OUTSIDER])
BY_STUDENTS = st.sampled_from([*STUDENTS, STUDENTS[0], OWNER, MODERATOR, OUTSIDER])
ANYONE = st.sampled_from(PEOPLE)
# Which room: a breakout room by ascending id (0, 1, 2), the parent (-1), or an unknown token (5).
ROOM = st.sampled_from([0, 1, -1, 2, 5])

# Error keys the contract allows per operation (HTTP 400); None: a 400 with data [] (Talk's
# changeParticipantType answers "already a moderator" and the like without a key).
ERROR_KEYS: dict[str, set[str | None]] = {
    "configure": {"config", "room", "mode", "amount", "attendeeMap"},
    "remove": set(),
    "start": {"mode"},
    "stop": {"mode"},
    "reorganize": {"config", "mode", "attendeeMap", "moderator"},
    "switch": {"mode", "status", "moderator", "target"},
    "assistance": {"room"},
    "promote": {None},
    "demote": {None, "moderator"},
    "add": {"source", "type", "moderator"},
    "remove-attendee": {"type", "moderator", "last-moderator"},
    "delete": {"type"},
    "chat": {"message"},
    "rename": {"name", "type"},
}
SUCCESS = {"chat": 201}
# Answers an allowed caller may get besides success and 400: changing an unknown attendee 404,
# oneself or an owner 403 (Talk's changeParticipantType and removeAttendeeFromRoom).
EXTRA_STATUSES = {"promote": {403, 404}, "demote": {403, 404}, "remove-attendee": {403, 404}}
MODERATOR_ONLY = {
    "configure", "remove", "start", "stop", "reorganize", "promote", "demote", "add", "remove-attendee", "delete",
    "rename",
}  # fmt: skip


class LifecycleModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint that teardown() rolls back: a fresh world every time.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.callers = {name: Caller(name, PASSWORD) for name in PEOPLE}
        for name in PEOPLE:
            user_create(name, PASSWORD)
        self.new_class()
        self.promote(MODERATOR)

    def new_class(self) -> None:
        owner = self.callers[OWNER]
        created = owner.post(f"{V4}/room", {"roomType": 2, "roomName": "Class"})
        assert created.status == 201, created.body
        self.parent_token: str = created.data["token"]
        self.parent_id: int = created.data["id"]
        for name in [MODERATOR, *STUDENTS]:
            added = owner.post(f"{V4}/room/{self.parent_token}/participants", {"newParticipant": name})
            assert added.status == 200, added.body

    def promote(self, name: str) -> None:
        promoted = self.callers[OWNER].post(
            f"{V4}/room/{self.parent_token}/moderators", {"attendeeId": self.attendee_id(self.parent_id, name)}
        )
        assert promoted.status == 200, promoted.body

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- reading the state (read-only) ---------------------------------------------------------

    def attendee_id(self, room_id: int | None, name: str) -> int | None:
        if room_id is None:
            return None
        return (
            attendee_model()
            .objects.filter(room_id=room_id, actor_type="users", actor_id=name)
            .values_list("pk", flat=True)
            .first()
        )

    def role(self, room_id: int | None, name: str) -> str:
        if room_id is None:
            return "none"
        kind = (
            attendee_model()
            .objects.filter(room_id=room_id, actor_type="users", actor_id=name)
            .values_list("participant_type", flat=True)
            .first()
        )
        return "none" if kind is None else "moderator" if kind in (1, 2) else "student"

    def breakout_rooms(self) -> list[dict[str, Any]]:
        return list(conversation_model().objects.filter(parent_id=self.parent_id).order_by("pk").values("pk", "token"))

    def parent_exists(self) -> bool:
        return conversation_model().objects.filter(pk=self.parent_id).exists()

    def room_at(self, index: int) -> tuple[int | None, str]:
        """Index -1: the parent; 0..: a breakout room by ascending id; beyond: an unknown token."""
        if index < 0:
            return (self.parent_id if self.parent_exists() else None), self.parent_token
        rooms = self.breakout_rooms()
        if index < len(rooms):
            return rooms[index]["pk"], rooms[index]["token"]
        return None, UNKNOWN_TOKEN

    # --- the check of every answer --------------------------------------------------------------

    def expect(self, operation: str, role: str, answer: Answer, *, lobby_rule: bool = False) -> None:
        what = f"{operation} by a {role}: {answer.status} {answer.body[:300]!r}"
        assert answer.status < 500, what
        if role == "none":
            assert answer.status == 404, what
            return
        if role == "student" and operation in MODERATOR_ONLY:
            assert answer.status == 403, what
            return
        allowed = {SUCCESS.get(operation, 200), 400, *EXTRA_STATUSES.get(operation, set())}
        if lobby_rule and role == "student":
            allowed.add(412)
        assert answer.status in allowed, what
        if answer.status == 400:
            assert answer.error_key in ERROR_KEYS[operation], what

    @invariant()
    def the_tree_keeps_its_invariants(self) -> None:
        assert tree_violations([self.parent_id]) == []

    # --- the parent's lifecycle -----------------------------------------------------------------

    @rule(
        who=BY_MODERATORS,
        mode=st.sampled_from([2, 3, 1]),
        amount=st.sampled_from([2, 3, 1, 0, 21]),
        placements=st.lists(st.sampled_from([0, 1, -1, 2, 3]), min_size=4, max_size=4),
        valid_map=st.sampled_from([True, True, True, False]),
        start=st.booleans(),
    )
    def configure(self, who: str, mode: int, amount: int, placements: list[int], valid_map: bool, start: bool) -> None:
        parent_id, token = self.room_at(-1)
        attendee_map = {}
        for student, room in zip(STUDENTS, placements, strict=True):
            attendee_id = self.attendee_id(parent_id, student)
            if attendee_id is not None and room >= 0:
                attendee_map[str(attendee_id)] = room % amount if valid_map and 0 < amount <= 20 else room
        body = {"mode": mode, "amount": amount, "attendeeMap": json.dumps(attendee_map)}
        answer = self.callers[who].post(f"{V1}/breakout-rooms/{token}", body)
        self.expect("configure", self.role(parent_id, who), answer)
        if start and answer.status == 200:
            started = self.callers[who].post(f"{V1}/breakout-rooms/{token}/rooms")
            self.expect("start", self.role(parent_id, who), started)

    @rule(who=BY_MODERATORS)
    def remove_breakout_rooms(self, who: str) -> None:
        parent_id, token = self.room_at(-1)
        role = self.role(parent_id, who)
        self.expect("remove", role, self.callers[who].delete(f"{V1}/breakout-rooms/{token}"))

    @rule(who=BY_MODERATORS)
    def start(self, who: str) -> None:
        parent_id, token = self.room_at(-1)
        self.expect("start", self.role(parent_id, who), self.callers[who].post(f"{V1}/breakout-rooms/{token}/rooms"))

    @rule(who=BY_MODERATORS)
    def stop(self, who: str) -> None:
        parent_id, token = self.room_at(-1)
        self.expect("stop", self.role(parent_id, who), self.callers[who].delete(f"{V1}/breakout-rooms/{token}/rooms"))

    @rule(
        who=BY_MODERATORS,
        placements=st.lists(st.sampled_from([1, 0, -1, 2, 3]), min_size=1, max_size=5),
        with_moderator=st.booleans(),
    )
    def reorganize(self, who: str, placements: list[int], with_moderator: bool) -> None:
        parent_id, token = self.room_at(-1)
        role = self.role(parent_id, who)
        names = ([MODERATOR] if with_moderator else []) + STUDENTS
        attendee_map = {}
        for name, room in zip(names, placements, strict=False):
            attendee_id = self.attendee_id(parent_id, name)
            if attendee_id is not None and room >= 0:
                attendee_map[str(attendee_id)] = room
        answer = self.callers[who].post(
            f"{V1}/breakout-rooms/{token}/attendees", {"attendeeMap": json.dumps(attendee_map)}
        )
        self.expect("reorganize", role, answer)

    @rule(who=BY_STUDENTS, into=ROOM)
    def switch(self, who: str, into: int) -> None:
        parent_id, token = self.room_at(-1)
        role = self.role(parent_id, who)
        _, target_token = self.room_at(into)
        answer = self.callers[who].post(f"{V1}/breakout-rooms/{token}/switch", {"target": target_token})
        self.expect("switch", role, answer)

    @rule(who=BY_STUDENTS, index=ROOM, request=st.booleans())
    def assistance(self, who: str, index: int, request: bool) -> None:
        room_id, token = self.room_at(index)
        role = self.role(room_id, who)
        path = f"{V1}/breakout-rooms/{token}/request-assistance"
        answer = self.callers[who].post(path) if request else self.callers[who].delete(path)
        self.expect("assistance", role, answer)

    # --- people -----------------------------------------------------------------------------------

    @rule(who=BY_MODERATORS, whom=BY_STUDENTS, promote=st.booleans())
    def promote_or_demote(self, who: str, whom: str, promote: bool) -> None:
        parent_id, token = self.room_at(-1)
        role = self.role(parent_id, who)
        body = {"attendeeId": self.attendee_id(parent_id, whom) or NO_SUCH_ATTENDEE}
        path = f"{V4}/room/{token}/moderators"
        answer = self.callers[who].post(path, body) if promote else self.callers[who].delete(path, body)
        self.expect("promote" if promote else "demote", role, answer)

    @rule(who=BY_MODERATORS, whom=ANYONE, index=ROOM)
    def add_participant(self, who: str, whom: str, index: int) -> None:
        room_id, token = self.room_at(index)
        role = self.role(room_id, who)
        answer = self.callers[who].post(f"{V4}/room/{token}/participants", {"newParticipant": whom})
        self.expect("add", role, answer)

    @rule(who=BY_MODERATORS, whom=BY_STUDENTS, index=ROOM)
    def remove_participant(self, who: str, whom: str, index: int) -> None:
        room_id, token = self.room_at(index)
        role = self.role(room_id, who)
        body = {"attendeeId": self.attendee_id(room_id, whom) or NO_SUCH_ATTENDEE}
        self.expect("remove-attendee", role, self.callers[who].delete(f"{V4}/room/{token}/attendees", body))

    @rule(who=BY_MODERATORS, index=ROOM, parent=st.integers(0, 3))
    def delete_conversation(self, who: str, index: int, parent: int) -> None:
        # Deleting the parent ends the story of this class: only one draw in four aims at it.
        room_id, token = self.room_at(-1 if parent == 3 else max(index, 0))
        role = self.role(room_id, who)
        self.expect("delete", role, self.callers[who].delete(f"{V4}/room/{token}"))
        if not self.parent_exists():
            orphans = conversation_model().objects.filter(parent_id=self.parent_id).count()
            assert orphans == 0, f"{orphans} breakout room(s) outlived their deleted parent"
            self.new_class()
            self.promote(MODERATOR)

    @rule(who=BY_STUDENTS, index=ROOM, text=st.text(max_size=20))
    def chat(self, who: str, index: int, text: str) -> None:
        room_id, token = self.room_at(index)
        role = self.role(room_id, who)
        answer = self.callers[who].post(f"{V1}/chat/{token}", {"message": text})
        self.expect("chat", role, answer, lobby_rule=True)

    @rule(who=BY_MODERATORS, index=ROOM, name=st.text(max_size=12))
    def rename(self, who: str, index: int, name: str) -> None:
        room_id, token = self.room_at(index)
        role = self.role(room_id, who)
        self.expect("rename", role, self.callers[who].put(f"{V4}/room/{token}", {"roomName": name}))


@pytest.mark.django_db
def test_the_breakout_lifecycle_keeps_its_invariants_under_any_sequence_of_requests() -> None:
    run_state_machine_as_test(LifecycleModel, settings=settings(settings.get_profile(PROFILE)))
