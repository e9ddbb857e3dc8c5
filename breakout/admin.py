"""Breakout operations in the admin: actions on the conversation changelist (start, stop and
remove the breakout rooms of selected parents, reset assistance requests of selected rooms) and
the breakout overview page. Every action calls the lifecycle services with the operator as actor;
nothing here writes breakout state itself.

``conversations`` must not import ``breakout``, so this module re-registers the conversation
admin with the breakout additions (apps load in INSTALLED_APPS order: conversations first).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path

from accounts.authentication import authenticated_user
from breakout.overview.actions import assistance_reset_run, parents_action_run
from breakout.overview.views import overview_action_view, overview_view
from conversations.admin import ConversationAdmin
from conversations.models import Conversation


class BreakoutConversationAdmin(ConversationAdmin):
    actions = ("breakout_start_selected", "breakout_stop_selected", "breakout_remove_selected", "assistance_reset")

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("breakout-overview/", wrap(overview_view), {"model_admin": self}, name="breakout_overview"),
            path(
                "breakout-overview/<int:parent_id>/<str:action>/",
                wrap(overview_action_view),
                {"model_admin": self},
                name="breakout_overview_action",
            ),
            *super().get_urls(),
        ]

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
