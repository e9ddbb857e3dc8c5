"""Our own API beside OCS: the event stream (issue 9)."""

from __future__ import annotations

from django.urls import path

from conversations import events_views

urlpatterns = [
    path("events", events_views.events, name="events"),
]
