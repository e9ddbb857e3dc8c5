"""/metrics: off (404) unless configured, then only for the bearer token or the allowed
networks; the body is Prometheus' text format with django-prometheus' request metrics."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import Client, override_settings

TOKEN = "scrape-me-0123456789"
LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]
TEST_NET = [ipaddress.ip_network("192.0.2.0/24")]


def test_metrics_are_off_by_default() -> None:
    assert Client().get("/metrics").status_code == 404


@override_settings(METRICS_TOKEN=TOKEN)
def test_the_token_opens_the_metrics(db: None) -> None:
    Client().get("/healthz")

    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    assert "django_http_requests_total_by_view_transport_method_total" in body
    assert 'view="healthz"' in body


@override_settings(METRICS_TOKEN=TOKEN)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "])
def test_a_missing_or_wrong_token_gets_401(authorization: str | None) -> None:
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}

    response = Client().get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"django_http" not in response.content


@override_settings(METRICS_ALLOWED_IPS=LOOPBACK)
def test_an_allowed_network_opens_the_metrics_without_a_token(db: None) -> None:
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200


@override_settings(METRICS_ALLOWED_IPS=TEST_NET)
def test_an_address_outside_the_allowed_networks_gets_403() -> None:
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403


@override_settings(METRICS_ALLOWED_IPS=TEST_NET, TRUSTED_PROXIES=1)
def test_behind_a_proxy_the_forwarded_address_is_checked(db: None) -> None:
    proxied = Client(REMOTE_ADDR="10.0.0.1")

    assert proxied.get("/metrics", HTTP_X_FORWARDED_FOR="192.0.2.7").status_code == 200
    assert proxied.get("/metrics", HTTP_X_FORWARDED_FOR="192.0.2.7, 198.51.100.1").status_code == 403


@override_settings(METRICS_TOKEN=TOKEN, METRICS_ALLOWED_IPS=TEST_NET)
def test_with_both_configured_either_suffices(db: None) -> None:
    assert Client(REMOTE_ADDR="192.0.2.9").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 401
