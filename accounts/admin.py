"""The Django admin for users, app passwords and app config (groups: Django's own group admin).

Every write goes through ``accounts.services``: adding a user (``user_create``, after Django's
password validators), saving a changed user (``user_save``), revoking app passwords (the inline on
the user page and the changelist action) and setting or resetting app config values. Login and
join times are read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from accounts.models import AppConfigValue, AppPassword, User
from accounts.services import app_config_reset, app_config_set, app_passwords_revoke, user_create, user_save
from project.admin_helpers import admin_link, changelist_link, count_of


class AppPasswordInline(admin.TabularInline):
    """A user's app passwords: listed, and revoked by ticking "delete" (through the service).
    New ones are made by the login flow, the only place that can show the token once."""

    model = AppPassword
    extra = 0
    fields = ("name", "created_at", "last_used_at")
    readonly_fields = fields
    can_delete = True
    verbose_name_plural = "app passwords (tick delete to revoke)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


DJANGO_USER_FIELDSETS = tuple(DjangoUserAdmin.fieldsets or ())


class UserAddForm(AdminUserCreationForm):
    """Django's creation form (validators, matching passwords) for ``user_create``; every user
    gets a password: the choice of an unusable one is not offered."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "display_name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("usable_password", None)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "email", "is_staff", "is_active", "app_password_count", "last_login")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        *DJANGO_USER_FIELDSETS[:1],
        ("Talk", {"fields": ("display_name",)}),
        *DJANGO_USER_FIELDSETS[1:],
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "display_name", "password1", "password2")}),)
    add_form = UserAddForm
    readonly_fields = ("last_login", "date_joined")
    inlines = (AppPasswordInline,)

    def get_inlines(self, request: HttpRequest, obj: User | None) -> Any:
        return self.inlines if obj is not None else ()  # a new user has no app passwords

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change:
            return super().save_form(request, form, change)
        values = form.cleaned_data
        return user_create(
            username=values["username"], display_name=values.get("display_name") or "", password=values["password1"]
        )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change:  # a new user was created by ``save_form`` (the service)
            user_save(user=obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(app_password_total=count_of(AppPassword.objects, "user"))

    @admin.display(description="app passwords", ordering="app_password_total")
    def app_password_count(self, obj: User) -> str:
        return changelist_link(AppPassword, str(getattr(obj, "app_password_total", "?")), user__id__exact=obj.pk)

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool) -> None:
        if formset.model is not AppPassword:
            super().save_formset(request, form, formset, change)
            return
        # commit=False collects the ticked rows in deleted_objects without deleting them.
        formset.save(commit=False)
        revoked = app_passwords_revoke(app_password_ids=[password.pk for password in formset.deleted_objects])
        if revoked:
            messages.success(request, f"Revoked {revoked} app password(s).")


@admin.register(AppPassword)
class AppPasswordAdmin(admin.ModelAdmin):
    list_display = ("id", "user_link", "name", "created_at", "last_used_at")
    list_select_related = ("user",)
    list_filter = (("last_used_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("user__username", "name")
    fields = ("user", "name", "created_at", "last_used_at")
    readonly_fields = fields
    actions = ("revoke_selected",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="user", ordering="user__username")
    def user_link(self, obj: AppPassword) -> str:
        return admin_link(obj.user)

    @admin.action(description="Revoke selected app passwords", permissions=["delete"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[AppPassword]) -> None:
        revoked = app_passwords_revoke(app_password_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Revoked {revoked} app password(s).", messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: AppPassword) -> None:
        app_passwords_revoke(app_password_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AppPassword]) -> None:
        app_passwords_revoke(app_password_ids=queryset.values_list("pk", flat=True))


@admin.register(AppConfigValue)
class AppConfigValueAdmin(admin.ModelAdmin):
    """Talk's ``spreed`` app config, e.g. ``breakout_rooms`` = ``yes``/``no``; read on every use."""

    list_display = ("key", "value", "updated_at")
    search_fields = ("key", "value")

    def save_model(self, request: HttpRequest, obj: AppConfigValue, form: ModelForm, change: bool) -> None:
        app_config_set(key=obj.key, value=obj.value)

    def delete_model(self, request: HttpRequest, obj: AppConfigValue) -> None:
        app_config_reset(keys=[obj.key])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AppConfigValue]) -> None:
        app_config_reset(keys=queryset.values_list("key", flat=True))
