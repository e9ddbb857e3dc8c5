"""The OpenAPI schema is served and covers the endpoints that exist."""

from __future__ import annotations

from django.test import Client

EXPECTED_WHEN_ROUTED = [
    "/ocs/v2.php/cloud/capabilities",
    "/ocs/v2.php/cloud/user",
    "/ocs/v2.php/core/getapppassword",
    "/ocs/v2.php/apps/spreed/api/v4/room",
    "/ocs/v2.php/apps/spreed/api/v4/room/{token}",
    "/ocs/v2.php/apps/spreed/api/v1/breakout-rooms/{token}",
    "/ocs/v2.php/apps/spreed/api/v4/room/{token}/breakout-rooms",
    "/ocs/v2.php/apps/spreed/api/v1/chat/{token}",
]


def _routed(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path.replace("{token}", "abcd1234"))
    except Resolver404:
        return False
    return match.func.__name__ != "ocs_not_found"


def test_the_schema_is_served_and_lists_every_routed_endpoint(db: None) -> None:
    response = Client().get("/api/schema/?format=json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    present = [path for path in EXPECTED_WHEN_ROUTED if _routed(path)]
    assert "/ocs/v2.php/apps/spreed/api/v4/room" in present
    missing = [path for path in present if path not in paths]
    assert missing == []


def test_the_schema_documents_the_catch_all_nowhere(db: None) -> None:
    paths = Client().get("/api/schema/?format=json").json()["paths"]

    assert not [path for path in paths if "(" in path or "*" in path]


def test_the_swagger_ui_is_served(db: None) -> None:
    assert Client().get("/api/docs/").status_code == 200


def test_each_ocs_route_is_documented_once_under_v2(db: None) -> None:
    paths = Client().get("/api/schema/?format=json").json()["paths"]

    assert [path for path in paths if path.startswith("/ocs/v1.php/")] == []


def test_the_schema_validates_without_warnings(db: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=StringIO())

    assert "openapi: 3" in out.getvalue()


def test_operation_ids_are_unique_and_derived_from_the_path(db: None) -> None:
    schema = Client().get("/api/schema/?format=json").json()
    ids = [op["operationId"] for methods in schema["paths"].values() for op in methods.values() if "operationId" in op]

    assert len(ids) == len(set(ids))
    assert "cloud_capabilities_get" in ids
    assert "apps_spreed_api_v4_room_by_token_get" in ids
