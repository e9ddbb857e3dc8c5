"""Database access from the async views (streams, long polls) that wait between reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection


def read_and_release(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one read (in a ``sync_to_async`` thread) and give the thread's connection back, so a
    waiting stream holds none between its reads (a test's transaction is left alone)."""
    try:
        return function(*args, **kwargs)
    finally:
        if not connection.in_atomic_block:
            connection.close()
