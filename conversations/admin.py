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

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from accounts.authentication import authenticated_user
from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.services.lifecycle import conversation_create, room_name_clean
from conversations.services.operator_settings import ROOM_SETTINGS, conversation_settings_save_by_operator
from project.admin_helpers import admin_link, changelist_link, count_of
from project.errors import ServiceError

# --- conversations ----------------------------------------------------------------------------

# Where ``save_model`` leaves a service's refusal for ``response_change`` (one request's attribute).
REFUSAL_ATTRIBUTE = "_conversation_settings_refusal"


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


def breakout_mode_text(room: Conversation) -> str:
    """A breakout room has no mode of its own (its parent's mode applies): never "not configured"."""
    if room.parent_id is not None:
        return "- (breakout room)"
    return room.get_breakout_room_mode_display()


def breakout_status_text(room: Conversation) -> str:
    """The status column means "started/stopped" on a parent and "assistance requested" on a room."""
    if room.parent_id is not None:
        asking = room.breakout_room_status == Conversation.BreakoutStatus.ASSISTANCE_REQUESTED
        return "assistance requested" if asking else "no assistance request"
    if room.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
        return "-"
    return "started" if room.breakout_room_status == Conversation.BreakoutStatus.STARTED else "stopped"


CALL_FLAG_NAMES = ((1, "in call"), (2, "audio"), (4, "video"), (8, "phone"))


def call_flag_text(room: Conversation) -> str:
    """Talk's call flag is a bit set (1 in call, 2 audio, 4 video, 8 phone)."""
    names = [name for bit, name in CALL_FLAG_NAMES if room.call_flag & bit]
    return f"{', '.join(names)} ({room.call_flag})" if names else "no call (0)"


class BreakoutRoomInline(admin.TabularInline):
    """The breakout rooms of a parent, read-only: rooms come and go with configure/remove."""

    model = Conversation
    fk_name = "parent"
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "breakout room"
    verbose_name_plural = "breakout rooms (by ascending id: room numbers of attendee maps)"
    fields = ("token", "name", "lobby_state", "assistance", "attendees_link")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).annotate(attendee_total=count_of(Attendee.objects, "room")).order_by("id")

    @admin.display(description="attendees")
    def attendees_link(self, obj: Conversation) -> str:
        return changelist_link(Attendee, str(getattr(obj, "attendee_total", "?")), room__id__exact=obj.pk)

    @admin.display(description="assistance")
    def assistance(self, obj: Conversation) -> str:
        return breakout_status_text(obj)


class ConversationAddForm(forms.Form):
    """ "Add conversation" creates a room through ``conversation_create``, with an owner: a room
    without a moderator could never be reached or configured through the API."""

    name = forms.CharField(max_length=255)
    type = forms.TypedChoiceField(
        choices=[(Conversation.Type.GROUP, "group"), (Conversation.Type.PUBLIC, "public")],
        coerce=int,
        initial=Conversation.Type.GROUP,
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        help_text="Becomes the conversation's owner (a moderator): the user who can configure breakout rooms.",
    )

    def __init__(self, *args: Any, instance: Conversation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The admin passes instance=None on add and shows ``form.instance`` when invalid.
        self.instance = instance or Conversation()

    def clean_name(self) -> str:
        try:
            return room_name_clean(self.cleaned_data["name"])
        except ServiceError:
            raise ValidationError("A name of 1 to 255 characters is required.") from None


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
        "breakout_mode",
        "breakout_status",
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
        ("Breakout rooms", {"fields": ("breakout_mode", "breakout_status", "rooms_link")}),
        (
            "Settings",
            {"fields": ROOM_SETTINGS},  # each saved through its service (operator_settings)
        ),
        ("Activity", {"fields": ("call_flags", "active_since", "last_activity", "created_at")}),
    )
    add_fieldsets = ((None, {"fields": ("name", "type", "owner")}),)
    # Lifecycle-only: only configure/remove/start/stop/assistance may change these; the activity
    # fields are facts recorded by the calls and the chat, not settings.
    lifecycle_fields = (
        "breakout_mode",
        "breakout_status",
        "parent_link",
        "rooms_link",
        "attendees_link",
        "call_flags",
        "active_since",
        "last_activity",
        "created_at",
    )

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

    def get_fieldsets(self, request: HttpRequest, obj: Conversation | None = None) -> Any:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Conversation | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            return ConversationAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change:
            return super().save_form(request, form, change)
        values = form.cleaned_data
        return conversation_create(actor=values["owner"], room_type=values["type"], name=values["name"])

    def save_model(self, request: HttpRequest, obj: Conversation, form: ModelForm, change: bool) -> None:
        """A new conversation was created by ``save_form`` (the service). Changed settings go
        through ``conversation_settings_save_by_operator``: each through the API's service (tree
        lock, its rules and system messages, with the operator as actor). A refusal (the API's
        error key) changes nothing and is shown by ``response_change``."""
        if not change:
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes:
            return
        try:
            saved = conversation_settings_save_by_operator(actor=authenticated_user(request), room=obj, changes=changes)
        except ServiceError as refusal:  # the service's transaction rolled back: nothing changed
            setattr(request, REFUSAL_ATTRIBUTE, refusal)
            return
        for name in changes:
            setattr(obj, name, getattr(saved, name))

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, REFUSAL_ATTRIBUTE, None) is not None:
            return None  # no history entry for a change that did not happen
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: Conversation) -> HttpResponse:
        refusal: ServiceError | None = getattr(request, REFUSAL_ATTRIBUTE, None)
        if refusal is None:
            return super().response_change(request, obj)
        reason = refusal.key or refusal.message or "refused"
        self.message_user(request, f"Nothing was changed: the change was refused ({reason}).", messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def get_readonly_fields(self, request: HttpRequest, obj: Conversation | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        fields: tuple[str, ...] = self.lifecycle_fields
        # A token is the room's address for every client; a type change would break the tree
        # rules (a parent must be a group conversation).
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

    @admin.display(description="parent", ordering="parent__token")
    def parent_link(self, obj: Conversation) -> str:
        return admin_link(obj.parent, obj.parent.token) if obj.parent is not None else "-"

    @admin.display(description="breakout mode", ordering="breakout_room_mode")
    def breakout_mode(self, obj: Conversation) -> str:
        return breakout_mode_text(obj)

    @admin.display(description="breakout status", ordering="breakout_room_status")
    def breakout_status(self, obj: Conversation) -> str:
        return breakout_status_text(obj)

    @admin.display(description="call flag")
    def call_flags(self, obj: Conversation) -> str:
        return call_flag_text(obj)

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
