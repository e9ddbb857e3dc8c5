"""Settings of the benchmark's servers: the project's settings plus the floor views' URLs.

The floor views exist only here (``bench.urls``), never in the served project.
"""

from __future__ import annotations

from project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
