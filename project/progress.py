"""Progress of long management commands on standard error (tqdm), so an operator running one on
thousands of students sees it working. Standard output stays the command's result alone.

The writes of the commands are bulk (a fixed number of queries in one transaction), so there is
no honest per-student count while they run: ``Steps`` shows the steps one by one ("3/4 moving the
students") with the time spent; ``rows`` counts rows where a command really goes row by row
(writing an export).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def _stream(command: Any) -> Any:
    """The real stream behind a command's ``stderr`` (Django wraps it in an OutputWrapper)."""
    return getattr(command.stderr, "_out", command.stderr)


def progress_enabled(command: Any, enabled: bool | None) -> bool:
    """``--progress``/``--no-progress`` when given, else only when standard error is a terminal."""
    if enabled is not None:
        return enabled
    isatty = getattr(_stream(command), "isatty", None)
    return bool(isatty and isatty())


class Steps:
    """``total`` named steps: call ``step(name)`` as each one begins and ``close()`` at the end."""

    def __init__(self, command: Any, *, total: int, enabled: bool | None) -> None:
        self._bar = tqdm(
            total=total,
            file=_stream(command),
            disable=not progress_enabled(command, enabled),
            bar_format="{n_fmt}/{total_fmt} {desc} [{elapsed}]",
            leave=True,
        )
        self._started = False

    def step(self, name: str) -> None:
        if self._started:
            self._bar.update(1)
        self._started = True
        self._bar.set_description_str(name)

    def close(self, *, done: bool = True) -> None:
        """End the output; ``done=False`` after a failure leaves the step that failed shown."""
        if self._started and done:
            self._bar.update(1)
            self._bar.set_description_str("done")
        self._bar.close()


def rows(command: Any, items: Iterable[T], *, total: int, desc: str, enabled: bool | None) -> Iterator[T]:
    """``items`` with a row counter (``desc: 1200/3000``) on standard error."""
    yield from tqdm(
        items,
        total=total,
        desc=desc,
        unit=" rows",
        file=_stream(command),
        disable=not progress_enabled(command, enabled),
        mininterval=0.5,
    )
