"""Helpers shared by the tests (fixtures live in ``conftest.py``, factories in ``factories.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from conversations.models import ChatMessage, Conversation

OCS = "/ocs/v2.php"
V4 = f"{OCS}/apps/spreed/api/v4"
V1 = f"{OCS}/apps/spreed/api/v1"


def ocs_data(response: Any) -> Any:
    return response.json()["ocs"]["data"]


def ocs_error(response: Any) -> Any:
    """The error key of an OCS error response, or the raw data when it has none."""
    data = ocs_data(response)
    return data.get("error") if isinstance(data, dict) else data


def system_messages(room: Conversation) -> list[str]:
    """The keys of the system messages of ``room``, oldest first."""
    return list(
        ChatMessage.objects.filter(room=room, message_type=ChatMessage.Type.SYSTEM)
        .order_by("id")
        .values_list("system_message", flat=True)
    )


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite serialises writers instead",
)

# Recording an operation's events (live.services.events_record_bulk): the INSERT, and on
# PostgreSQL the ordering lock before it. Every state change that clients must learn of pays it
# once, whatever its size.
EVENT_QUERIES = 2 if connection.vendor == "postgresql" else 1
