"""The operator's view of the bots: installed bots with their failing state, their set-ups and
deliveries (read-only; bots are installed and changed with ``manage.py bot``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from bots.models import Bot, BotConversation, BotDelivery


class FailingFilter(admin.SimpleListFilter):
    title = "failing"
    parameter_name = "failing"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Failing"), ("no", "Healthy")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Bot]) -> QuerySet[Bot]:
        failing = Q(consecutive_failures__gte=settings.BOTS_FAILING_AFTER)
        if self.value() == "yes":
            return queryset.filter(failing)
        if self.value() == "no":
            return queryset.exclude(failing)
        return queryset


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "state",
        "feature_list",
        "failing",
        "consecutive_failures",
        "error_count",
        "last_error_at",
        "pending",
    )
    list_filter = (FailingFilter, "state")
    search_fields = ("name", "url")
    exclude = ("secret",)  # never shown
    readonly_fields = (
        "name", "url", "url_hash", "description", "state", "features", "error_count",
        "consecutive_failures", "last_error_at", "last_error_message", "created_at",
    )  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bot]:
        pending = Q(deliveries__delivered_at__isnull=True, deliveries__abandoned_at__isnull=True)
        return super().get_queryset(request).annotate(pending_count=Count("deliveries", filter=pending))

    @admin.display(boolean=True, description="failing")
    def failing(self, bot: Bot) -> bool:
        return bot.is_failing(settings.BOTS_FAILING_AFTER)

    @admin.display(description="features")
    def feature_list(self, bot: Bot) -> str:
        return Bot.feature_labels(bot.features)

    @admin.display(description="pending deliveries", ordering="pending_count")
    def pending(self, bot: Bot) -> int:
        return getattr(bot, "pending_count", 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BotConversation)
class BotConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "bot", "conversation", "created_at")
    list_select_related = ("bot", "conversation")
    search_fields = ("conversation__token", "bot__name")
    readonly_fields = ("bot", "conversation", "since_event_id", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BotDelivery)
class BotDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "bot", "kind", "token", "event_id", "status", "attempts", "next_attempt_at", "last_error")
    list_select_related = ("bot",)
    list_filter = ("kind",)
    search_fields = ("token",)
    readonly_fields = (
        "bot", "event_id", "kind", "token", "body", "attempts", "next_attempt_at",
        "delivered_at", "abandoned_at", "last_error", "created_at",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
