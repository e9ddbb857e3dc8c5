"""``/metrics`` for Prometheus, behind configurable access.

django-prometheus counts requests, responses, latencies and database queries (its middleware
and database wrappers); the apps add gauges computed at scrape time with
``register_scrape_collector`` (the breakout gauges live in ``breakout/metrics.py``, so this
module imports no app).

Access (README "Metrics"): the endpoint answers 404 unless ``METRICS_TOKEN`` or
``METRICS_ALLOWED_IPS`` is set. With a token a scrape must send ``Authorization: Bearer
<token>``; with allowed addresses it must come from one of them (the same client address as
the brute-force guard: ``TRUSTED_PROXIES`` applies); with both, either suffices.

Under several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, wiped
at start) so that the counters of all workers are summed; the scrape-time gauges read the
database and are the same whichever worker answers.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

import prometheus_client
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import multiprocess
from prometheus_client.registry import Collector

from project.bruteforce.guard import client_address

_scrape_collectors: list[Collector] = []


def register_scrape_collector(collector: Collector) -> None:
    """Export ``collector`` (whose ``collect()`` runs at each scrape) from ``/metrics``.
    Idempotent, so an app may call it from ``AppConfig.ready()``."""
    if any(type(existing) is type(collector) for existing in _scrape_collectors):
        return
    _scrape_collectors.append(collector)
    prometheus_client.REGISTRY.register(collector)


def metrics_enabled() -> bool:
    return bool(settings.METRICS_TOKEN or settings.METRICS_ALLOWED_IPS)


def _token_matches(request: HttpRequest) -> bool:
    if not settings.METRICS_TOKEN:
        return False
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())


def _address_allowed(request: HttpRequest) -> bool:
    if not settings.METRICS_ALLOWED_IPS:
        return False
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_IPS)


def _registry() -> prometheus_client.CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return prometheus_client.REGISTRY
    registry = prometheus_client.CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in _scrape_collectors:
        registry.register(collector)
    return registry


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_enabled():
        raise Http404("metrics are not enabled")
    if not (_token_matches(request) or _address_allowed(request)):
        response = HttpResponse("Forbidden\n", status=403, content_type="text/plain")
        if settings.METRICS_TOKEN:
            response.status_code = 401
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = prometheus_client.generate_latest(_registry())
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
