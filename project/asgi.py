"""ASGI entry point: gunicorn with uvicorn workers (``uvicorn_worker.UvicornWorker``).

The sync DRF views run as they are, each request's sync code in a thread Django provides; the
waiting endpoints (chat long polling, the event stream) are async and wait in the event loop,
blocking no thread and holding no database connection.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = get_asgi_application()

from project.ocs.middleware import unusable_charset_guard_asgi  # noqa: E402 (needs the settings above)

application = unusable_charset_guard_asgi(application)  # type: ignore[assignment]
