"""The accounts admin: users with their app passwords, app password revocation, groups and app
config (every write through the accounts services)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AppConfigValue, AppPassword, User
from accounts.selectors import app_config_get
from accounts.services import app_password_create
from tests.conftest import V4

pytestmark = pytest.mark.django_db


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_app_config_values_can_be_changed_in_the_admin(operator_client: Client) -> None:
    response = operator_client.post(
        reverse("admin:accounts_appconfigvalue_add"), {"key": "breakout_rooms", "value": "no"}
    )

    assert response.status_code == 302
    assert AppConfigValue.objects.get(key="breakout_rooms").value == "no"


def test_deleting_an_app_config_value_in_the_admin_restores_its_default(operator_client: Client) -> None:
    AppConfigValue.objects.create(key="breakout_rooms", value="no")

    response = operator_client.post(
        reverse("admin:accounts_appconfigvalue_delete", args=["breakout_rooms"]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not AppConfigValue.objects.filter(key="breakout_rooms").exists()
    assert app_config_get("breakout_rooms") == "yes"


# --- app passwords ----------------------------------------------------------------------------


def _app_password(user: User, name: str) -> AppPassword:
    return AppPassword.objects.create(user=user, name=name, token_hash=AppPassword.hash_token(name))


def test_user_page_lists_app_passwords_and_revokes_the_ticked_one(operator_client: Client, student: User) -> None:
    laptop = _app_password(student, "laptop")
    phone = _app_password(student, "phone")
    url = reverse("admin:accounts_user_change", args=[student.pk])
    page = operator_client.get(url)
    assert "laptop" in page.content.decode() and "phone" in page.content.decode()
    joined = timezone.localtime(student.date_joined)

    response = operator_client.post(
        url,
        {
            "username": student.username,
            "display_name": student.display_name,
            "is_active": "on",
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "app_passwords-TOTAL_FORMS": 2,
            "app_passwords-INITIAL_FORMS": 2,
            "app_passwords-MIN_NUM_FORMS": 0,
            "app_passwords-MAX_NUM_FORMS": 1000,
            "app_passwords-0-id": laptop.pk,
            "app_passwords-0-user": student.pk,
            "app_passwords-0-DELETE": "on",
            "app_passwords-1-id": phone.pk,
            "app_passwords-1-user": student.pk,
        },
        follow=True,
    )

    assert response.status_code == 200
    assert list(AppPassword.objects.values_list("name", flat=True)) == ["phone"]
    assert "Revoked 1 app password(s)." in messages_of(response)


def test_app_password_changelist_revokes_selected_passwords_and_offers_no_plain_delete(
    operator_client: Client, student: User, owner: User
) -> None:
    revoked = _app_password(student, "old")
    kept = _app_password(owner, "new")
    url = reverse("admin:accounts_apppassword_changelist")
    assert "delete_selected" not in operator_client.get(url).content.decode()

    response = operator_client.post(url, {"action": "revoke_selected", "_selected_action": [revoked.pk]}, follow=True)

    assert list(AppPassword.objects.values_list("pk", flat=True)) == [kept.pk]
    assert "Revoked 1 app password(s)." in messages_of(response)


def test_app_passwords_cannot_be_added_in_the_admin(operator_client: Client) -> None:
    assert operator_client.get(reverse("admin:accounts_apppassword_add")).status_code == 403


def test_groups_are_managed_in_the_admin(operator_client: Client) -> None:
    response = operator_client.post(reverse("admin:auth_group_add"), {"name": "Teachers"})

    assert response.status_code == 302
    assert Group.objects.filter(name="Teachers").exists()


def test_a_revoked_app_password_stops_authenticating_at_once(operator_client: Client, student: User) -> None:
    app_password, token = app_password_create(user=student, name="phone")
    header = "Basic " + base64.b64encode(f"student:{token}".encode()).decode()
    api = Client(HTTP_OCS_APIREQUEST="true", HTTP_ACCEPT="application/json", HTTP_AUTHORIZATION=header)
    assert api.get(f"{V4}/room").status_code == 200

    operator_client.post(
        reverse("admin:accounts_apppassword_changelist"),
        {"action": "revoke_selected", "_selected_action": [app_password.pk]},
    )

    assert api.get(f"{V4}/room").status_code == 401


# --- users ------------------------------------------------------------------------------------


def test_changing_a_user_in_the_admin_saves_through_the_accounts_service(
    operator_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Adding goes through ``user_create`` (tests/operators/test_admin_restrictions.py).
    from django.contrib import admin
    from django.test import RequestFactory

    from accounts import admin as accounts_admin
    from accounts import services

    saved: list[str] = []

    def user_save(*, user: User) -> User:
        saved.append(user.username)
        return services.user_save(user=user)

    monkeypatch.setattr(accounts_admin, "user_save", user_save)
    user = User.objects.create_user(username="changed", password="a-long-Passw0rd!")
    user.display_name = "Changed Name"

    admin.site._registry[User].save_model(RequestFactory().post("/"), user, form=None, change=True)

    assert saved == ["changed"]
    assert User.objects.get(username="changed").display_name == "Changed Name"
    assert User.objects.get(username="changed").check_password("a-long-Passw0rd!")
