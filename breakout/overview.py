"""The operators' breakout overview: every parent with breakout rooms on one (paginated) page,
rooms asking for assistance first, with start/stop/remove buttons.

The views are mounted by ``breakout/admin.py`` through the conversation admin's ``get_urls``
(``admin:breakout_overview``), so the admin site's login, staff check and CSRF protection apply.
The page costs a fixed number of queries: the page of parents, then every room of those parents
with its attendee counts in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import User
from breakout.services.lifecycle import assistance_reset, breakout_remove, breakout_start, breakout_stop
from conversations.models import Attendee, Conversation
from project.errors import ServiceError

PARENTS_PER_PAGE = 25
REFRESH_SECONDS = 15

# What the service error keys mean to an operator.
ERROR_TEXT = {
    "mode": "breakout rooms are not configured",
    "room": "not possible for this conversation (start the breakout rooms first for assistance)",
    "config": "breakout rooms are disabled (app config breakout_rooms is not 'yes')",
    "status": "breakout rooms are not started",
}

ParentService = Callable[..., Conversation]
PARENT_ACTIONS: dict[str, tuple[ParentService, str]] = {
    "start": (breakout_start, "started"),
    "stop": (breakout_stop, "stopped"),
    "remove": (breakout_remove, "removed the breakout rooms of"),
}


def service_error_text(error: ServiceError) -> str:
    if error.key:
        return ERROR_TEXT.get(error.key, f"refused ({error.key})")
    return error.message or "refused"


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
            service(actor=actor, parent=parent)
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
            assistance_reset(actor=actor, room=room)
        except ServiceError as error:
            reason = "is not a breakout room" if room.parent_id is None else service_error_text(error)
            outcome.failed.append((room, reason))
        else:
            outcome.done.append(room)
    return outcome


# --- reads ------------------------------------------------------------------------------------


@dataclass
class RoomRow:
    room: Conversation
    number: int  # 1-based, by ascending id: the room numbers of `breakout assign`

    @property
    def needs_assistance(self) -> bool:
        return self.room.breakout_room_status == Conversation.BreakoutStatus.ASSISTANCE_REQUESTED


@dataclass
class ParentRow:
    parent: Conversation
    rooms: list[RoomRow]

    @property
    def assistance_count(self) -> int:
        return sum(1 for row in self.rooms if row.needs_assistance)


def overview_parents() -> QuerySet[Conversation]:
    """Every parent that has breakout rooms or is configured for them; parents with a room asking
    for assistance first, then by ascending id."""
    rooms = Conversation.objects.filter(parent=OuterRef("pk"))
    return (
        Conversation.objects.filter(parent__isnull=True)
        .filter(Q(Exists(rooms)) | ~Q(breakout_room_mode=Conversation.BreakoutMode.NOT_CONFIGURED))
        .annotate(
            asks_assistance=Exists(rooms.filter(breakout_room_status=Conversation.BreakoutStatus.ASSISTANCE_REQUESTED))
        )
        .order_by("-asks_assistance", "id")
    )


def _attendee_count(**filters: Any) -> Coalesce:
    counted = (
        Attendee.objects.filter(room=OuterRef("pk"), **filters)
        .order_by()
        .values("room")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def overview_rows(parents: Iterable[Conversation]) -> list[ParentRow]:
    """The breakout rooms of ``parents`` with their attendee and student counts, in one query;
    within a parent the rooms asking for assistance come first, then by ascending id."""
    parents = list(parents)
    rooms = Conversation.objects.filter(parent_id__in=[parent.pk for parent in parents]).annotate(
        attendee_total=_attendee_count(),
        student_total=_attendee_count(participant_type__in=Attendee.STUDENT_TYPES),
    )
    by_parent: dict[int, list[RoomRow]] = {parent.pk: [] for parent in parents}
    for room in rooms.order_by("id"):
        siblings = by_parent[room.parent_id]
        siblings.append(RoomRow(room=room, number=len(siblings) + 1))
    rows = []
    for parent in parents:
        room_rows = sorted(by_parent[parent.pk], key=lambda row: (not row.needs_assistance, row.room.pk))
        rows.append(ParentRow(parent=parent, rooms=room_rows))
    return rows


# --- views ------------------------------------------------------------------------------------


def overview_view(request: HttpRequest, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    """GET: the overview page (``?page=N``, 25 parents a page)."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    page: Page = Paginator(overview_parents(), PARENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Breakout rooms overview",
        "page_obj": page,
        "rows": overview_rows(page.object_list),
        "can_change": model_admin.has_change_permission(request),
        "refresh_seconds": REFRESH_SECONDS,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/breakout_overview.html", context)


@require_POST
def overview_action_view(
    request: HttpRequest, parent_id: int, action: str, *, model_admin: admin.ModelAdmin
) -> HttpResponse:
    """POST: start, stop or remove the breakout rooms of one parent, then back to the page."""
    if action not in PARENT_ACTIONS:
        raise Http404("unknown action")
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    parent = get_object_or_404(Conversation, pk=parent_id, parent__isnull=True)
    outcome = parents_action_run(action=action, actor=request.user, parents=[parent])
    outcome.report(request, PARENT_ACTIONS[action][1])
    url = reverse("admin:breakout_overview")
    page = request.POST.get("page", "")
    if page.isdigit():
        url = f"{url}?page={page}"
    return HttpResponseRedirect(url)
