"""The hand-written SQL of the hot reads (``conversations/sql_reads.py``) gives the same model
instances, with the same values, as the ORM querysets it replaces."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Model
from django.utils import timezone

from accounts.models import User
from conversations import sql_reads
from conversations.models import Attendee, ChatMessage, Conversation
from tests.factories import AttendeeFactory, ChatMessageFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def column_values(instance: Model) -> dict[str, object]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_the_attendee_by_token_equals_the_orm_row_with_its_room_and_parent(student: User) -> None:
    now = timezone.now().replace(microsecond=0)
    parent = ConversationFactory(lobby_timer=now, breakout_ends_at=now + timedelta(minutes=5))
    room = ConversationFactory(parent=parent, active_since=now, description="Ünïcode")
    AttendeeFactory(room=room, user=student, favorite=True, archived=False, assistance_requested_at=now)

    found = sql_reads.attendee_by_token(user_id=student.pk, token=room.token)

    expected = Attendee.objects.select_related("room", "room__parent").get(room=room, user=student)
    assert found is not None
    assert column_values(found) == column_values(expected)
    assert column_values(found.room) == column_values(expected.room)
    assert found.room.parent is not None
    assert column_values(found.room.parent) == column_values(parent)
    assert (found._state.adding, found._state.db) == (False, "default")
    assert sql_reads.attendee_by_token(user_id=student.pk, token=parent.token) is None


def test_a_chat_page_equals_the_orm_rows_with_json_values_and_replies() -> None:
    room = ConversationFactory()
    first = ChatMessageFactory(room=room, parameters={"actor": {"id": "a", "name": "Ä"}}, reactions={"👍": 2})
    reply = ChatMessageFactory(room=room, reply_to=first, last_edited_at=timezone.now())
    ChatMessageFactory(room=room, expires_at=timezone.now() - timedelta(seconds=1))  # expired: left out

    page = sql_reads.chat_page_rows(
        room_id=room.pk, direction=sql_reads.CHAT_PAGE_NEWEST, message_id=0, limit=10, now=timezone.now()
    )

    assert [m.pk for m in page] == [reply.pk, first.pk]
    for found in page:
        assert column_values(found) == column_values(ChatMessage.objects.get(pk=found.pk))
    assert page[0].reply_to is not None and column_values(page[0].reply_to) == column_values(first)
    assert page[1].reply_to is None
    future = sql_reads.chat_page_rows(
        room_id=room.pk, direction=sql_reads.CHAT_PAGE_FUTURE, message_id=first.pk, limit=10, now=timezone.now()
    )
    assert [m.pk for m in future] == [reply.pk]


def test_empty_json_values_of_a_chat_page_are_fresh_objects_like_the_orms() -> None:
    room = ConversationFactory()
    for parameters in ({}, [], {}, {"a": []}):
        ChatMessageFactory(room=room, parameters=parameters, reactions={})

    page = sql_reads.chat_page_rows(
        room_id=room.pk, direction=sql_reads.CHAT_PAGE_FUTURE, message_id=0, limit=10, now=timezone.now()
    )

    assert [m.parameters for m in page] == [{}, [], {}, {"a": []}]
    for found in page:
        assert column_values(found) == column_values(ChatMessage.objects.get(pk=found.pk))
    values = [m.parameters for m in page] + [m.reactions for m in page]
    assert len({id(value) for value in values}) == len(values)  # none shared: a caller may change one


def test_the_breakout_listing_has_every_room_and_the_callers_view_only_where_they_are_in(student: User) -> None:
    parent = ConversationFactory()
    rooms = [ConversationFactory(parent=parent) for _ in range(3)]
    AttendeeFactory(room=rooms[1], user=student)
    message = ChatMessageFactory(room=rooms[1])

    listing = sql_reads.breakout_listing_rows(user_id=student.pk, username=student.username, parent_id=parent.pk)

    assert [room.pk for room, _ in listing] == [room.pk for room in rooms]
    assert [own is not None for _, own in listing] == [False, True, False]
    own = listing[1][1]
    assert own is not None and own.last_message is not None
    assert (own.attendee.room.pk, own.last_message.pk, own.unread_messages) == (rooms[1].pk, message.pk, 1)
    assert all(isinstance(room, Conversation) and room.parent == parent for room, _ in listing)
