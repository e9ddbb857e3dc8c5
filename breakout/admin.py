"""Breakout operations in the admin: actions on the conversation changelist (start, stop and
remove the breakout rooms of selected parents, reset assistance requests of selected rooms), the
buttons that fit the state on a parent's page (start or stop, remove after a confirmation) and
the breakout overview page. Every action calls the lifecycle services with the operator as actor
(``as_operator=True``); nothing here writes breakout state itself.

``conversations`` must not import ``breakout``, so this module re-registers the conversation
admin with the breakout additions (apps load in INSTALLED_APPS order: conversations first).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from accounts.authentication import authenticated_user
from breakout.overview.actions import assistance_reset_run, parent_actions_available, parents_action_run
from breakout.overview.stream import overview_events_view
from breakout.overview.views import overview_action_view, overview_room_action_view, overview_view
from conversations.admin import ConversationAdmin
from conversations.models import Conversation


class BreakoutConversationAdmin(ConversationAdmin):
    actions = ("breakout_start_selected", "breakout_stop_selected", "breakout_remove_selected", "assistance_reset")
    change_form_template = "admin/conversations/conversation/breakout_change_form.html"

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("breakout-overview/", wrap(overview_view), {"model_admin": self}, name="breakout_overview"),
            # async (the admin's view wrapper is sync): checks the staff session itself (stream.py)
            path("breakout-overview/events/", overview_events_view, name="breakout_overview_events"),
            path(
                "breakout-overview/room/<int:room_id>/<str:action>/",
                wrap(overview_room_action_view),
                {"model_admin": self},
                name="breakout_overview_room_action",
            ),
            path(
                "breakout-overview/<int:parent_id>/<str:action>/",
                wrap(overview_action_view),
                {"model_admin": self},
                name="breakout_overview_action",
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Conversation | None = None,
    ) -> HttpResponse:
        """A parent's page shows the lifecycle buttons that fit its state."""
        if obj is not None and self.has_change_permission(request, obj):
            context["breakout_actions"] = parent_actions_available(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _run_on_parents(self, request: HttpRequest, queryset: QuerySet[Conversation], action: str, verb: str) -> None:
        outcome = parents_action_run(action=action, actor=authenticated_user(request), parents=queryset.order_by("id"))
        outcome.report(request, verb)

    @admin.action(description="Start breakout rooms of selected parents", permissions=["change"])
    def breakout_start_selected(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        self._run_on_parents(request, queryset, "start", "started")

    @admin.action(description="Stop breakout rooms of selected parents", permissions=["change"])
    def breakout_stop_selected(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        self._run_on_parents(request, queryset, "stop", "stopped")

    @admin.action(description="Remove breakout rooms of selected parents", permissions=["change"])
    def breakout_remove_selected(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        self._run_on_parents(request, queryset, "remove", "removed the breakout rooms of")

    @admin.action(description="Reset assistance requests of selected breakout rooms", permissions=["change"])
    def assistance_reset(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        assistance_reset_run(actor=authenticated_user(request), rooms=queryset.order_by("id")).report(
            request, "reset the assistance request of"
        )


admin.site.unregister(Conversation)
admin.site.register(Conversation, BreakoutConversationAdmin)

from breakout import history_admin  # noqa: E402, F401 - registers the read-only rounds and templates
