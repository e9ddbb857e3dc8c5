"""The overview page and its buttons. Mounted by ``breakout/admin.py`` through the conversation
admin's ``get_urls`` (``admin:breakout_overview``), so the admin site's login, staff check and
CSRF protection apply. The page costs a fixed number of queries (``selectors``)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.authentication import authenticated_user
from breakout.overview.actions import PARENT_ACTIONS, parents_action_run
from breakout.overview.selectors import overview_parents, overview_rows
from conversations.models import Conversation

PARENTS_PER_PAGE = 25
REFRESH_SECONDS = 15


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
    outcome = parents_action_run(action=action, actor=authenticated_user(request), parents=[parent])
    outcome.report(request, PARENT_ACTIONS[action][1])
    url = reverse("admin:breakout_overview")
    page = request.POST.get("page", "")
    if page.isdigit():
        url = f"{url}?page={page}"
    return HttpResponseRedirect(url)
