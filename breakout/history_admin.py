"""The admin's read-only view of breakout rounds with their assignment spans, and of assignment
templates (issue 12). History is written by the lifecycle services only: nothing here can add,
change or delete it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from breakout.models import AssignmentSpan, AssignmentTemplate, BreakoutRound


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AssignmentSpanInline(ReadOnlyMixin, admin.TabularInline):
    model = AssignmentSpan
    fields = ("actor_id", "attendee_id", "room_name", "room_token", "opened_at", "closed_at", "how", "closed_how")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(BreakoutRound)
class BreakoutRoundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "parent", "mode", "amount", "configured_at", "started_at", "stopped_at", "removed_at")
    list_filter = ("mode",)
    list_select_related = ("parent",)
    search_fields = ("parent__token", "parent__name")
    readonly_fields = (
        "parent",
        "mode",
        "amount",
        "seed",
        "strategy",
        "configured_at",
        "started_at",
        "stopped_at",
        "removed_at",
        "timer_ends_at",
        "configured_by",
    )
    inlines = (AssignmentSpanInline,)


@admin.register(AssignmentTemplate)
class AssignmentTemplateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name", "owner__username")
    readonly_fields = ("owner", "name", "rows", "created_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("breakout.delete_assignmenttemplate"))
