"""Root URLs. Every OCS route answers under /ocs/v2.php/ and, with OCS v1 semantics, /ocs/v1.php/."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path, register_converter
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from project import health, metrics
from project.bruteforce.forms import GuardedAdminAuthenticationForm
from project.ocs.converters import TokenConverter
from project.ocs.fallback import ocs_not_found

# Registered once, here, before the apps' URLconfs that use ``<token:token>`` are included.
register_converter(TokenConverter, "token")

# Failed admin logins count for the brute-force guard, like failed Basic auth.
admin.site.login_form = GuardedAdminAuthenticationForm

handler400 = "project.ocs.fallback.handler400"
handler403 = "project.ocs.fallback.handler403"
handler404 = "project.ocs.fallback.handler404"
handler500 = "project.ocs.fallback.handler500"

ocs_patterns: list[URLPattern | URLResolver] = [
    path("", include("accounts.urls")),
    path("", include("conversations.urls")),
    path("", include("bots.urls")),
    path("", include("breakout.urls")),
    re_path(r"^.*$", ocs_not_found),
]

urlpatterns = [
    path("ocs/v2.php/", include(ocs_patterns)),
    path("ocs/v1.php/", include(ocs_patterns)),
    re_path(r"^ocs/.*$", ocs_not_found),
    path("api/v1/", include("conversations.events_urls")),  # the event stream
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="schema-docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="docs/redoc.html"),
        name="schema-redoc",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
]
