"""factory-boy factories for the domain models."""

from __future__ import annotations

import factory

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda u: f"{u.username}-displayname")
    password = factory.django.Password("secret")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    type = Conversation.Type.GROUP
    name = factory.Sequence(lambda n: f"Conversation {n}")


class AttendeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendee

    room = factory.SubFactory(ConversationFactory)
    user = factory.SubFactory(UserFactory)
    actor_type = Attendee.ACTOR_USERS
    actor_id = factory.LazyAttribute(lambda a: a.user.username)
    display_name = factory.LazyAttribute(lambda a: a.user.get_display_name())
    participant_type = Attendee.ParticipantType.USER
    breakout_parent = factory.LazyAttribute(lambda a: a.room.parent)


class ChatMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatMessage

    room = factory.SubFactory(ConversationFactory)
    actor_id = "user0"
    actor_display_name = "user0-displayname"
    message = factory.Sequence(lambda n: f"message {n}")
