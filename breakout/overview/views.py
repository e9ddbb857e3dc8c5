"""The overview page and its buttons. Mounted by ``breakout/admin.py`` through the conversation
admin's ``get_urls`` (``admin:breakout_overview``), so the admin site's login, staff check and
CSRF protection apply. The page costs a fixed number of queries (``selectors``).

The page updates itself without reloading: its script follows ``admin:breakout_overview_events``
(``stream``) and, on a breakout event, fetches the same page with ``?fragment=1`` (only the
rows) and swaps them in. Every change is a POST form (CSRF token) handled here.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.authentication import authenticated_user
from breakout.overview.actions import PARENT_ACTIONS, assistance_claim_run, assistance_reset_run, parents_action_run
from breakout.overview.selectors import overview_parents, overview_rows
from conversations.models import Conversation

PARENTS_PER_PAGE = 25
ROOM_ACTIONS = {
    "reset": (assistance_reset_run, "reset the assistance request of"),
    "claim": (assistance_claim_run, "claimed the assistance request of"),
}


def overview_view(request: HttpRequest, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    """GET: the overview page (``?page=N``, 25 parents a page); ``&fragment=1``: only its rows,
    for the page's script."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    page: Page = Paginator(overview_parents(), PARENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "rows": overview_rows(page.object_list),
        "can_change": model_admin.has_change_permission(request),
        "updated_at": timezone.localtime(),
    }
    if request.GET.get("fragment") == "1":
        return TemplateResponse(request, "admin/breakout_overview_rows.html", context)
    context |= {
        **model_admin.admin_site.each_context(request),
        "title": "Breakout rooms overview",
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/breakout_overview.html", context)


def _next(request: HttpRequest) -> str:
    """``next`` (POST or GET) when it is a URL of this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next", "")
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else ""


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to where the button was: ``next``, else the overview (at the page the button was on)."""
    target = _next(request)
    if target:
        return HttpResponseRedirect(target)
    url = reverse("admin:breakout_overview")
    page = request.POST.get("page", "")
    if page.isdigit():
        url = f"{url}?page={page}"
    return HttpResponseRedirect(url)


@require_http_methods(["GET", "POST"])
def overview_action_view(
    request: HttpRequest, parent_id: int, action: str, *, model_admin: admin.ModelAdmin
) -> HttpResponse:
    """POST: start, stop or remove the breakout rooms of one parent, give them 5 more minutes
    (``extend``) or clear their timer (``clear-timer``), then back (``next``).

    Remove deletes rooms and their chats: it asks first. A GET of the remove URL (and a POST
    without ``confirm=yes``) shows the confirmation page, whose form posts ``confirm=yes``."""
    if action not in PARENT_ACTIONS:
        raise Http404("unknown action")
    if request.method == "GET" and action != "remove":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    parent = get_object_or_404(Conversation, pk=parent_id, parent__isnull=True)
    if action == "remove" and request.POST.get("confirm") != "yes":
        rooms = list(parent.breakout_rooms.order_by("id").only("token", "name"))
        context = {
            **model_admin.admin_site.each_context(request),
            "title": "Remove the breakout rooms?",
            "opts": model_admin.model._meta,
            "parent": parent,
            "rooms": rooms,
            "next": _next(request),
            "page": request.POST.get("page") or request.GET.get("page", ""),
        }
        return TemplateResponse(request, "admin/breakout_remove_confirm.html", context)
    outcome = parents_action_run(action=action, actor=authenticated_user(request), parents=[parent])
    outcome.report(request, PARENT_ACTIONS[action][1])
    return _back(request)


@require_POST
def overview_room_action_view(
    request: HttpRequest, room_id: int, action: str, *, model_admin: admin.ModelAdmin
) -> HttpResponse:
    """POST: ``reset`` or ``claim`` the assistance request of one breakout room, then back
    (``next``). A request someone else claimed is reported as an admin message."""
    if action not in ROOM_ACTIONS:
        raise Http404("unknown action")
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    room = get_object_or_404(Conversation, pk=room_id, parent__isnull=False)
    run, verb = ROOM_ACTIONS[action]
    run(actor=authenticated_user(request), rooms=[room]).report(request, verb)
    return _back(request)
