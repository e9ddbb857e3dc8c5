"""WSGI entry point for gunicorn (`gunicorn project.wsgi`)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()

from project.ocs.middleware import unusable_charset_guard  # noqa: E402 (needs the settings above)

application = unusable_charset_guard(application)  # type: ignore[assignment]
