"""The schema, Swagger UI and ReDoc are public documentation: they answer anonymous visitors
and logged-in operators (an admin session, which sends no OCS-APIRequest header) alike, and
their viewers load their assets from this server (drf-spectacular-sidecar), never a CDN."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.test import Client

SIDECAR = "/static/drf_spectacular_sidecar/"


@pytest.fixture(params=["anonymous", "operator"])
def visitor(request: pytest.FixtureRequest, db: None) -> Client:
    client = Client()
    if request.param == "operator":
        client.force_login(get_user_model().objects.create_superuser("root", password="A-long-operator-passphrase"))
    return client


def external_urls(html: str) -> list[str]:
    return [url for url in re.findall(r"""(?:src|href)=["']([^"']+)""", html) if "//" in url]


def test_the_schema_answers(visitor: Client) -> None:
    response = visitor.get("/api/schema/?format=json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Breakout rooms service (Nextcloud Talk compatible)"


def test_the_schema_ignores_basic_credentials(db: None) -> None:
    # Documentation authenticates nobody: a wrong password does not turn it into a 401.
    response = Client().get("/api/schema/", HTTP_AUTHORIZATION="Basic d3Jvbmc6d3Jvbmc=")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "assets"),
    [
        (
            "/api/docs/",
            [
                "swagger-ui-dist/swagger-ui.css",
                "swagger-ui-dist/swagger-ui-bundle.js",
                "swagger-ui-dist/swagger-ui-standalone-preset.js",
                "swagger-ui-dist/favicon-32x32.png",
            ],
        ),
        ("/api/redoc/", ["redoc/bundles/redoc.standalone.js"]),
    ],
)
def test_the_viewers_answer_with_their_assets_from_this_server(visitor: Client, path: str, assets: list[str]) -> None:
    response = visitor.get(path)

    html = response.content.decode()
    assert response.status_code == 200
    assert external_urls(html) == []
    assert "cdn" not in html
    for asset in assets:
        assert SIDECAR + asset in html
        assert finders.find(f"drf_spectacular_sidecar/{asset}") is not None
    assert '"/api/schema/"' in html or "'/api/schema/'" in html
