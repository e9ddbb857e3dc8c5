"""GET /cloud/capabilities and GET /cloud/user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import app_config_set

CAPABILITIES = "/ocs/v2.php/cloud/capabilities"


def test_capabilities_have_nextclouds_shape_and_advertise_breakout_rooms(client_for: Any, owner: User) -> None:
    response = client_for(owner).get(CAPABILITIES)

    assert response.status_code == 200
    data = response.json()["ocs"]["data"]
    assert set(data) == {"version", "capabilities"}
    assert set(data["version"]) == {"major", "minor", "micro", "string", "edition", "extendedSupport"}
    spreed = data["capabilities"]["spreed"]
    assert "breakout-rooms-v1" in spreed["features"]
    assert "conversation-v4" in spreed["features"]
    assert "breakout-events" in spreed["features"]  # the event stream (issue 9)
    assert spreed["config"]["call"]["breakout-rooms"] is True
    assert spreed["config"]["chat"]["max-length"] == 32000
    assert spreed["config"]["conversations"]["can-create"] is True
    assert isinstance(spreed["version"], str)


def test_the_breakout_rooms_switch_follows_app_config_at_once(client_for: Any, owner: User) -> None:
    client = client_for(owner)
    app_config_set(key="breakout_rooms", value="no")

    off = client.get(CAPABILITIES).json()["ocs"]["data"]["capabilities"]["spreed"]
    app_config_set(key="breakout_rooms", value="yes")
    on = client.get(CAPABILITIES).json()["ocs"]["data"]["capabilities"]["spreed"]

    assert off["config"]["call"]["breakout-rooms"] is False
    assert "breakout-rooms-v1" in off["features"]  # always listed (contract section 7)
    assert on["config"]["call"]["breakout-rooms"] is True


def test_capabilities_under_v1_use_statuscode_100(anonymous_client: APIClient, db: None) -> None:
    response = anonymous_client.get("/ocs/v1.php/cloud/capabilities")

    assert response.status_code == 200
    assert response.json()["ocs"]["meta"]["statuscode"] == 100
    assert "spreed" in response.json()["ocs"]["data"]["capabilities"]


def test_capabilities_cost_one_query(anonymous_client: APIClient, django_assert_num_queries: Any, db: None) -> None:
    # 1. the breakout_rooms app config value
    with django_assert_num_queries(1):
        anonymous_client.get(CAPABILITIES)


def test_cloud_user_returns_the_current_user(client_for: Any, owner: User) -> None:
    group = Group.objects.create(name="teachers")
    owner.groups.add(group)

    response = client_for(owner).get("/ocs/v2.php/cloud/user")

    assert response.status_code == 200
    data = response.json()["ocs"]["data"]
    assert data["id"] == "owner"
    assert data["display-name"] == "Owner Person"
    assert data["displayname"] == "Owner Person"
    assert data["groups"] == ["teachers"]
    assert data["enabled"] is True


def test_cloud_user_needs_a_login(anonymous_client: APIClient, db: None) -> None:
    response = anonymous_client.get("/ocs/v2.php/cloud/user")

    assert response.status_code == 401
    assert response.json()["ocs"]["meta"]["statuscode"] == 997


# Each Talk surface feature flag with the route that implements it (URL names of conversations/urls.py):
# a flag is advertised only where its endpoint answers.
TALK_SURFACE_FEATURE_ROUTES = {
    "reactions": "reaction",
    "edit-messages": "chat-message",
    "edit-messages-note-to-self": "chat-message",
    "delete-messages": "chat-message",
    "delete-messages-unlimited": "chat-message",
    "clear-history": "chat",
    "chat-read-marker": "chat-read",
    "chat-read-last": "chat-read",
    "chat-unread": "chat-read",
    "mention-flag": "chat-mentions",
    "direct-mention-flag": "chat-mentions",
    "favorites": "room-favorite",
    "notification-levels": "room-notify",
    "notification-calls": "room-notify-calls",
    "read-only-rooms": "room-read-only",
    "conversation-permissions": "room-permissions",
    "chat-permission": "room-attendee-permissions",
    "talk-polls": "poll-create",
    "remind-me-later": "chat-reminder",
    "upcoming-reminders": "chat-upcoming-reminders",
    "avatar": "room-avatar",
}
NOT_OFFERED = {"chat-get-context", "silent-send"}


def test_the_talk_surface_features_are_advertised_and_missing_ones_are_not(client_for: Any, owner: User) -> None:
    spreed = client_for(owner).get(CAPABILITIES).json()["ocs"]["data"]["capabilities"]["spreed"]
    features = set(spreed["features"])

    assert features >= set(TALK_SURFACE_FEATURE_ROUTES)
    assert not NOT_OFFERED & features


def test_capabilities_advertise_the_breakout_extensions_of_issue_11(client_for: Any, owner: User) -> None:
    features = client_for(owner).get(CAPABILITIES).json()["ocs"]["data"]["capabilities"]["spreed"]["features"]

    for feature in (
        "breakout-rooms-timer",
        "breakout-rooms-names",
        "breakout-rooms-single",
        "breakout-rooms-assistance-queue",
    ):
        assert feature in features


def test_webhook_bots_are_advertised(client_for: Any, owner: User) -> None:
    spreed = client_for(owner).get(CAPABILITIES).json()["ocs"]["data"]["capabilities"]["spreed"]
    assert "bots-v1" in spreed["features"]
    assert "bot-features-api" not in spreed["features"]  # POST /bot/ask-features is not offered


def test_each_advertised_talk_surface_feature_has_its_route() -> None:
    from conversations import urls as conversations_urls

    routes = {pattern.name for pattern in conversations_urls.urlpatterns}

    assert {name for name in TALK_SURFACE_FEATURE_ROUTES.values() if name not in routes} == set()
