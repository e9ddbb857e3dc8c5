"""Jobs for the worker tests (the worker imports them by their path)."""

from __future__ import annotations

import time

from django_tasks import task


@task()
def journal_append(path: str, key: str, seconds: float = 0.0) -> str:
    """Write ``start key``, sleep, write ``done key``: a job killed half-way leaves only the first."""
    with open(path, "a") as journal:
        journal.write(f"start {key}\n")
    time.sleep(seconds)
    with open(path, "a") as journal:
        journal.write(f"done {key}\n")
    return key
