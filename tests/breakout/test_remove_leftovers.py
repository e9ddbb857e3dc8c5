"""Removing breakout rooms (remove, configure's clean-up of rooms left behind, the cleanup
command) deletes their messages' reactions and reminders, their polls and the polls' votes."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from accounts.models import User
from breakout.services import lifecycle
from conversations.models import Conversation
from tests.breakout.conftest import breakout_rooms
from tests.conversations.leftovers import NONE_LEFT, kept_counts, leftovers_add, leftovers_of
from tests.factories import ConversationFactory

KEPT = {"reactions": 4, "reminders": 4, "polls": 1, "votes": 2}


def test_remove_deletes_the_rooms_reactions_reminders_and_polls(room: Conversation, owner: User) -> None:
    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={})
    removed = breakout_rooms(room)
    for child in removed:
        leftovers_add(child)
    leftovers_add(room)  # the parent's own are kept

    lifecycle.breakout_remove(actor=owner, parent=room)

    assert leftovers_of(removed) == NONE_LEFT
    assert kept_counts() == KEPT
    assert leftovers_of([room]) == KEPT


def test_configure_clean_up_deletes_the_left_rooms_reactions_reminders_and_polls(
    room: Conversation, owner: User
) -> None:
    left = [ConversationFactory(parent=room, name=f"Left {index}") for index in range(2)]
    for child in left:
        leftovers_add(child)
    leftovers_add(room)

    lifecycle.breakout_configure(actor=owner, parent=room, mode=1, amount=2, attendee_map={})

    assert not Conversation.objects.filter(pk__in=[child.pk for child in left]).exists()
    assert leftovers_of(left) == NONE_LEFT
    assert kept_counts() == KEPT


def test_cleanup_command_deletes_the_orphans_reactions_reminders_and_polls(room: Conversation) -> None:
    orphans = [ConversationFactory(parent=room, name=f"Orphan {index}") for index in range(2)]
    for child in orphans:
        leftovers_add(child)
    leftovers_add(room)

    call_command("cleanup", stdout=StringIO())

    assert not Conversation.objects.filter(pk__in=[child.pk for child in orphans]).exists()
    assert leftovers_of(orphans) == NONE_LEFT
    assert kept_counts() == KEPT
