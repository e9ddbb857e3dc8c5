"""SQLite backend that knows SQLite's real bound-parameter limit.

Django assumes SQLite allows only 999 parameters per statement and splits every bulk insert
into batches of 999 // fields rows, so the query count of a bulk write grows with the number
of attendees. SQLite has allowed 32766 since 3.32 (Debian's build allows 250000); reading the
limit from the connection keeps bulk writes to one statement at the sizes this service sees.
"""

from __future__ import annotations

import sqlite3
from functools import cached_property

from django.db.backends.sqlite3 import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int:  # type: ignore[override]
        self.connection.ensure_connection()
        limit = self.connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        # Stay well inside the limit: Django adds a few parameters of its own to some queries.
        return max(999, min(limit, 32766) - 100)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
