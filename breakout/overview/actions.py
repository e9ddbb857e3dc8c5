"""Operator actions on selected conversations, each through one lifecycle service call in its
own transaction, with the operator as actor (``as_operator``: Django's permissions, checked by
the admin, authorise them, not an attendee row)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from breakout.overview.texts import service_error_text
from breakout.services.assistance import ClaimedError, assistance_claim
from breakout.services.guards import TIMER_SECONDS_MAXIMUM
from breakout.services.lifecycle import assistance_reset, breakout_remove, breakout_start, breakout_stop
from breakout.services.timers import breakout_timer_clear, breakout_timer_set, seconds_left
from conversations.models import Conversation
from project.errors import ServiceError

EXTEND_SECONDS = 300


def breakout_timer_extend(*, actor: User, parent: Conversation, as_operator: bool = False) -> Conversation:
    """Five more minutes for started breakout rooms: the end becomes max(now, end shown) + 5
    minutes (``parent`` as read at the click), or, with no end running, the rooms end in 5
    minutes. ``breakout_timer_set`` locks the tree and re-checks that the rooms are started; two
    operators extending at once both extend the end they saw (5 minutes, not 10)."""
    left = seconds_left(parent.breakout_ends_at, timezone.now())
    return breakout_timer_set(
        actor=actor,
        parent=parent,
        duration=min(left + EXTEND_SECONDS, TIMER_SECONDS_MAXIMUM),
        as_operator=as_operator,
    )


ParentService = Callable[..., Conversation]
PARENT_ACTIONS: dict[str, tuple[ParentService, str]] = {
    "start": (breakout_start, "started"),
    "stop": (breakout_stop, "stopped"),
    "extend": (breakout_timer_extend, "gave 5 more minutes to"),
    "clear-timer": (breakout_timer_clear, "cleared the timer of"),
    "remove": (breakout_remove, "removed the breakout rooms of"),
}


@dataclass
class ActionOutcome:
    done: list[Conversation] = field(default_factory=list)
    failed: list[tuple[Conversation, str]] = field(default_factory=list)

    def report(self, request: HttpRequest, verb: str) -> None:
        if self.done:
            tokens = ", ".join(room.token for room in self.done)
            messages.success(request, f"{verb.capitalize()} {len(self.done)} conversation(s): {tokens}.")
        for room, reason in self.failed:
            messages.error(request, f"Conversation {room.token}: {reason}.")


def parent_actions_available(parent: Conversation) -> list[str]:
    """The buttons that fit ``parent``'s state: start when stopped; stop and +5 minutes when
    started, and clear the timer when one runs; remove whenever configured; none for a breakout
    room or an unconfigured conversation."""
    if parent.parent_id is not None or parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
        return []
    if parent.breakout_room_status == Conversation.BreakoutStatus.STARTED:
        timer = ["clear-timer"] if parent.breakout_ends_at is not None else []
        return ["stop", "extend", *timer, "remove"]
    return ["start", "remove"]


def parents_action_run(*, action: str, actor: User, parents: Iterable[Conversation]) -> ActionOutcome:
    """Run the lifecycle service ``action`` on each parent, each in its own transaction (a failure
    of one leaves the others done); breakout rooms among ``parents`` are refused."""
    service, _ = PARENT_ACTIONS[action]
    outcome = ActionOutcome()
    for parent in parents:
        if parent.parent_id is not None:
            outcome.failed.append((parent, "is a breakout room, select its parent"))
            continue
        try:
            service(actor=actor, parent=parent, as_operator=True)
        except ServiceError as error:
            outcome.failed.append((parent, service_error_text(error)))
        else:
            outcome.done.append(parent)
    return outcome


def assistance_reset_run(*, actor: User, rooms: Iterable[Conversation]) -> ActionOutcome:
    """Reset the assistance request of each breakout room (``assistance_reset``, one transaction
    each); rooms that are not breakout rooms or not started are reported, not changed."""
    outcome = ActionOutcome()
    for room in rooms:
        try:
            assistance_reset(actor=actor, room=room, as_operator=True)
        except ServiceError as error:
            reason = "is not a breakout room" if room.parent_id is None else service_error_text(error)
            outcome.failed.append((room, reason))
        else:
            outcome.done.append(room)
    return outcome


def assistance_claim_run(*, actor: User, rooms: Iterable[Conversation]) -> ActionOutcome:
    """The operator takes the open assistance request of each breakout room
    (``assistance_claim(as_operator=True)``, one transaction each, the operator recorded as
    claimer); a request another has claimed is reported with who holds it."""
    outcome = ActionOutcome()
    for room in rooms:
        try:
            assistance_claim(actor=actor, room=room, as_operator=True)
        except ClaimedError as error:
            holder = error.data["claimedByDisplayName"] or error.data["claimedBy"]
            outcome.failed.append((room, f"already claimed by {holder}"))
        except ServiceError as error:
            if room.parent_id is None:
                reason = "is not a breakout room"
            elif error.key == "status":
                reason = "has no open assistance request"
            else:
                reason = service_error_text(error)
            outcome.failed.append((room, reason))
        else:
            outcome.done.append(room)
    return outcome
