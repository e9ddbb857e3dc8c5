"""The Django admin for conversations, attendees and chat (users, app passwords and app config: ``accounts``).

Lifecycle state (breakout mode and status, a breakout room's lobby, a room's parent, who sits in
which room) is read-only here: it changes only through the services, which keep the tree's
invariants under the tree lock. The breakout actions and the overview live in
``breakout/admin.py`` (``conversations`` never imports ``breakout``). Every changelist costs a
fixed number of queries: related rows come through ``list_select_related`` and counts through
correlated subqueries.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.authentication import authenticated_user
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.services.lifecycle import room_name_clean
from conversations.services.room_settings import conversation_rename
from project.admin_helpers import admin_link, changelist_link, count_of
from project.errors import ServiceError

# --- conversations ----------------------------------------------------------------------------


class ConversationKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("parent", "parent with breakout rooms configured"),
            ("breakout", "breakout room"),
            ("plain", "conversation without breakout rooms"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
        if self.value() == "parent":
            return queryset.filter(parent__isnull=True).exclude(breakout_room_mode=0)
        if self.value() == "breakout":
            return queryset.filter(parent__isnull=False)
        if self.value() == "plain":
            return queryset.filter(parent__isnull=True, breakout_room_mode=0)
        return queryset


class BreakoutRoomInline(admin.TabularInline):
    """The breakout rooms of a parent, read-only: rooms come and go with configure/remove."""

    model = Conversation
    fk_name = "parent"
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "breakout room"
    verbose_name_plural = "breakout rooms (by ascending id: room numbers of attendee maps)"
    fields = ("token", "name", "lobby_state", "breakout_room_status", "attendees_link")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).annotate(attendee_total=count_of(Attendee.objects, "room")).order_by("id")

    @admin.display(description="attendees")
    def attendees_link(self, obj: Conversation) -> str:
        return changelist_link(Attendee, str(getattr(obj, "attendee_total", "?")), room__id__exact=obj.pk)


class ConversationForm(ModelForm):
    """The conversation change form: the name follows the rename service's rule."""

    class Meta:
        model = Conversation
        fields = ("name",)  # the admin passes its fieldsets

    def clean_name(self) -> str:
        try:
            return room_name_clean(self.cleaned_data["name"])
        except ServiceError:
            raise ValidationError("A name of 1 to 255 characters is required.") from None


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    form = ConversationForm
    list_display = (
        "id",
        "token",
        "name",
        "type",
        "parent_link",
        "breakout_room_mode",
        "breakout_room_status",
        "lobby_state",
        "rooms_link",
        "attendees_link",
        "last_activity",
    )
    list_display_links = ("id", "token")
    list_select_related = ("parent",)
    list_filter = (ConversationKindFilter, "type", "breakout_room_mode", "breakout_room_status", "lobby_state")
    search_fields = ("=token", "name", "parent__token", "attendees__actor_id", "attendees__display_name")
    show_full_result_count = False
    inlines = (BreakoutRoomInline,)
    fieldsets = (
        (None, {"fields": ("token", "type", "name", "description", "parent_link", "attendees_link")}),
        ("Breakout rooms", {"fields": ("breakout_room_mode", "breakout_room_status", "rooms_link")}),
        (
            "Settings",
            {
                "fields": (
                    "lobby_state",
                    "lobby_timer",
                    "read_only",
                    "listable",
                    "message_expiration",
                    "default_permissions",
                    "call_permissions",
                    "sip_enabled",
                    "recording_consent",
                    "mention_permissions",
                )
            },
        ),
        ("Activity", {"fields": ("call_flag", "active_since", "last_activity", "created_at")}),
    )
    # Lifecycle-only: only configure/remove/start/stop/assistance may change these.
    lifecycle_fields = ("breakout_room_mode", "breakout_room_status", "parent_link", "rooms_link", "attendees_link")

    def has_delete_permission(self, request: HttpRequest, obj: Conversation | None = None) -> bool:
        # Conversations are deleted through the API (DELETE /v4/room/{token}), which applies the
        # tree rules; breakout rooms go with the "remove breakout rooms" action.
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                attendee_total=count_of(Attendee.objects, "room"),
                room_total=count_of(Conversation.objects, "parent"),
            )
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Conversation | None = None) -> tuple[str, ...]:
        fields: tuple[str, ...] = self.lifecycle_fields
        if obj is not None:
            # A token is the room's address for every client; a type change would break the
            # tree rules (a parent must be a group conversation).
            fields = (*fields, "token", "type")
            if obj.type == Conversation.Type.ONE_TO_ONE:
                # Its name is the pair of user ids that keeps the pair unique.
                fields = (*fields, "name")
            if obj.parent_id is not None:
                # A breakout room's lobby is on exactly when its parent is stopped.
                fields = (*fields, "lobby_state", "lobby_timer")
        return fields

    def get_inlines(self, request: HttpRequest, obj: Conversation | None) -> tuple[type, ...]:
        return self.inlines if obj is not None and obj.parent_id is None else ()

    def save_model(self, request: HttpRequest, obj: Conversation, form: ModelForm, change: bool) -> None:
        """A rename goes through ``conversation_rename`` (tree lock, ``conversation_renamed``
        system message with the operator as actor); the other settings are saved as edited."""
        if not change or "name" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        new_name = obj.name
        obj.name = form.initial["name"]
        super().save_model(request, obj, form, change)
        renamed = conversation_rename(actor=authenticated_user(request), room=obj, name=new_name, by_operator=True)
        obj.name = renamed.name

    @admin.display(description="parent", ordering="parent__token")
    def parent_link(self, obj: Conversation) -> str:
        return admin_link(obj.parent, obj.parent.token) if obj.parent is not None else "-"

    @admin.display(description="breakout rooms", ordering="room_total")
    def rooms_link(self, obj: Conversation) -> str:
        total = getattr(obj, "room_total", None)
        if obj.parent_id is not None or not total:
            return "-"
        return changelist_link(Conversation, str(total), parent__id__exact=obj.pk)

    @admin.display(description="attendees", ordering="attendee_total")
    def attendees_link(self, obj: Conversation) -> str:
        return changelist_link(Attendee, str(getattr(obj, "attendee_total", "?")), room__id__exact=obj.pk)


# --- attendees and chat --------------------------------------------------------------


@admin.register(Attendee)
class AttendeeAdmin(admin.ModelAdmin):
    """Attendees are listed and inspected here; joining, leaving, moving between breakout rooms
    and promotion have side effects in the whole tree, so they happen through the API."""

    list_display = (
        "id",
        "room_link",
        "actor_type",
        "actor_id",
        "user_link",
        "display_name",
        "participant_type",
        "breakout_parent_link",
        "created_at",
    )
    list_select_related = ("room", "user", "breakout_parent")
    list_filter = ("participant_type", "actor_type", ("breakout_parent", admin.EmptyFieldListFilter))
    search_fields = ("actor_id", "display_name", "=room__token", "room__name", "user__username")
    show_full_result_count = False
    fields = (
        "room_link",
        "breakout_parent_link",
        "actor_type",
        "actor_id",
        "user_link",
        "participant_type",
        "display_name",
        "permissions",
        "notification_level",
        "notification_calls",
        "favorite",
        "archived",
        "last_read_message",
        "assistance_requested_at",
        "created_at",
    )
    readonly_fields = (
        "room_link",
        "breakout_parent_link",
        "actor_type",
        "actor_id",
        "user_link",
        "participant_type",
        "permissions",
        "last_read_message",
        "assistance_requested_at",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="room", ordering="room__token")
    def room_link(self, obj: Attendee) -> str:
        return admin_link(obj.room, str(obj.room))

    @admin.display(description="user", ordering="user__username")
    def user_link(self, obj: Attendee) -> str:
        return admin_link(obj.user)

    @admin.display(description="breakout parent", ordering="breakout_parent__token")
    def breakout_parent_link(self, obj: Attendee) -> str:
        return admin_link(obj.breakout_parent, obj.breakout_parent.token) if obj.breakout_parent is not None else "-"


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    """Chat is history: read-only."""

    list_display = ("id", "room_link", "actor_id", "message_type", "system_message", "short_message", "created_at")
    list_select_related = ("room",)
    list_filter = ("message_type", "system_message")
    search_fields = ("=room__token", "actor_id", "message")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="room", ordering="room__token")
    def room_link(self, obj: ChatMessage) -> str:
        return admin_link(obj.room, obj.room.token)

    @admin.display(description="message")
    def short_message(self, obj: ChatMessage) -> str:
        return obj.message if len(obj.message) <= 80 else f"{obj.message[:79]}…"
