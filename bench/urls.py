"""The project's URLs plus the benchmark's floor views (only served with ``bench.settings``)."""

from __future__ import annotations

from django.urls import path

from bench.floor import FloorAuthenticatedView, FloorUnauthenticatedView
from project.urls import handler400, handler403, handler404, handler500
from project.urls import urlpatterns as project_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("bench/floor/auth", FloorAuthenticatedView.as_view(), name="bench-floor-auth"),
    path("bench/floor/anon", FloorUnauthenticatedView.as_view(), name="bench-floor-anon"),
    *project_urlpatterns,
]
