"""Many long polls of one room woken together: each gets exactly what its own read would answer,
a client removed meanwhile gets no messages, and the wake costs the same statements whatever the
number of waiters (``conversations.live_wake``)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory, force_authenticate

from accounts.models import User
from conversations import live_views
from conversations.live_wake import FALLBACK, LongPollChatView, WaitTicket, wait_ticket, wake_answers
from conversations.models import Attendee, ChatMessage, Conversation
from conversations.services.chat import chat_message_post
from conversations.services.participants import attendee_remove
from conversations.services.reactions import reaction_add
from live import hub
from tests.factories import AttendeeFactory, ConversationFactory, UserFactory
from tests.helpers import V1

HEADERS = {"OCS-APIRequest": "true", "Accept": "application/json"}


def chat_url(room: Conversation) -> str:
    return f"{V1}/chat/{room.token}"


def add_students(room: Conversation, count: int) -> list[User]:
    users = [UserFactory(username=f"waiter{index}") for index in range(count)]
    for user in users:
        AttendeeFactory(room=room, user=user)
    return users


def newest_id(room: Conversation) -> int:
    return ChatMessage.objects.filter(room=room).order_by("-id").values_list("id", flat=True).first() or 0


def same_answer(woken: HttpResponse, fresh: HttpResponse) -> None:
    assert woken.status_code == fresh.status_code == 200
    assert woken.content == fresh.content
    per_request = {"X-Request-Id"}  # set by the middleware for each request
    assert {k: v for k, v in woken.items() if k not in per_request} == {
        k: v for k, v in fresh.items() if k not in per_request
    }


@pytest.mark.django_db(transaction=True)
def test_waiters_woken_together_get_their_own_answers_and_a_removed_one_gets_none(
    room: Conversation, owner: User, student: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Owner, student (reacted to the message the new one replies to), two more students (one
    asking for one message only) and one who is removed in the same commit: all wait, then one
    transaction removes the last, posts a comment and a reply. Everyone still in the room gets the
    bytes a fresh read of the same request answers (system message text, reactionsSelf and the
    page differ per client); the removed one gets 404; the answers came from the shared wake."""
    others = add_students(room, 3)
    removed = others[-1]
    owner_attendee = Attendee.objects.get(room=room, user=owner)
    earlier = chat_message_post(attendee=owner_attendee, message="earlier")
    reaction_add(attendee=Attendee.objects.get(room=room, user=student), message_id=earlier.pk, reaction="👍")
    last_known = newest_id(room)
    waiters: list[tuple[User, dict[str, Any]]] = [
        (owner, {}),
        (student, {}),
        (others[0], {}),
        (others[1], {"limit": 1}),
        (removed, {}),
    ]
    batches: list[list[Any]] = []

    def spying(token: str, tickets: list[WaitTicket]) -> list[Any]:
        answers = wake_answers(token, tickets)
        batches.append(answers)
        return answers

    monkeypatch.setattr(live_views, "wake_answers_sync", spying)
    first_reads = 0
    full_read = live_views.full_read

    async def counting_full_read(request: Any, token: str) -> HttpResponse:
        nonlocal first_reads
        response = await full_read(request, token)
        first_reads += 1
        return response

    monkeypatch.setattr(live_views, "full_read", counting_full_read)

    def post() -> None:
        try:
            with transaction.atomic():
                attendee_remove(actor=owner, room=room, attendee_id=Attendee.objects.get(room=room, user=removed).pk)
                chat_message_post(attendee=owner_attendee, message="new")
                chat_message_post(attendee=owner_attendee, message="a reply", reply_to=earlier.pk)
        finally:
            connection.close()

    def client(user: User) -> AsyncClient:
        async_client = AsyncClient()
        async_client.force_login(user)
        return async_client

    clients = [(client(user), params) for user, params in waiters]

    async def run() -> list[HttpResponse]:
        polls = [
            asyncio.create_task(
                c.get(
                    chat_url(room),
                    {"lookIntoFuture": 1, "lastKnownMessageId": last_known, "timeout": 20, **params},
                    headers=HEADERS,
                )
            )
            for c, params in clients
        ]
        for _ in range(1500):  # every first read done: all of them wait now (at most 30 s)
            if first_reads == len(polls):
                break
            await asyncio.sleep(0.02)
        assert hub.get_hub().count == len(polls)
        await sync_to_async(post, thread_sensitive=False)()
        return list(await asyncio.gather(*polls))

    woken = async_to_sync(run)()

    async def fresh(c: AsyncClient, params: dict[str, Any]) -> HttpResponse:
        query = {"lookIntoFuture": 1, "lastKnownMessageId": last_known, "timeout": 0, **params}
        return await c.get(chat_url(room), query, headers=HEADERS)

    for (c, params), answer, (user, _) in zip(clients, woken, waiters, strict=True):
        if user == removed:
            assert answer.status_code == 404
            continue
        same_answer(answer, async_to_sync(fresh)(c, params))
    pages = {user.username: [m["message"] for m in answer.json()["ocs"]["data"]] for (user, _), answer in
             zip(waiters[:-1], woken, strict=False)}  # fmt: skip
    assert pages["owner"][0].startswith("You removed")
    assert pages["student"][0] == "{actor} removed {user}"
    assert pages["student"][1:] == ["new", "a reply"]
    assert len(pages[others[1].username]) == 1
    reply = woken[1].json()["ocs"]["data"][-1]["parent"]
    assert reply["reactionsSelf"] == ["👍"]
    assert "reactionsSelf" not in woken[0].json()["ocs"]["data"][-1]["parent"]
    answered = [answer for batch in batches for answer in batch]
    assert sum(isinstance(answer, HttpResponse) for answer in answered) == len(waiters) - 1
    assert sum(answer is FALLBACK for answer in answered) >= 1  # the removed one re-reads fully


def tickets_for(room: Conversation, users: list[User], last_known: int) -> list[WaitTicket]:
    """The tickets the first reads of long polls by ``users`` leave (each read answers 304)."""
    view = LongPollChatView.as_view()
    tickets = []
    for user in users:
        request = APIRequestFactory().get(
            chat_url(room), {"lookIntoFuture": 1, "lastKnownMessageId": last_known, "timeout": 30}, **{
                "HTTP_OCS_APIREQUEST": "true"
            }
        )  # fmt: skip
        force_authenticate(request, user)
        assert view(request, token=room.token).status_code == 304
        ticket = wait_ticket(request)
        assert ticket is not None
        tickets.append(ticket)
    return tickets


def wake_queries(owner: User, size: int) -> tuple[Conversation, int, list[Any], list[User]]:
    """A room with ``size`` students (every other one reacted to a message) all waiting; a reply
    to that message arrives; the statements of answering them all."""
    room = ConversationFactory()
    AttendeeFactory(room=room, user=owner, participant_type=Attendee.ParticipantType.OWNER)
    users = [UserFactory(username=f"waiter{size}-{index}") for index in range(size)]
    for user in users:
        AttendeeFactory(room=room, user=user)
    owner_attendee = Attendee.objects.get(room=room, user=owner)
    earlier = chat_message_post(attendee=owner_attendee, message="earlier")
    for user in users[::2]:
        reaction_add(attendee=Attendee.objects.get(room=room, user=user), message_id=earlier.pk, reaction="🎉")
    last_known = newest_id(room)
    tickets = tickets_for(room, users, last_known)
    chat_message_post(attendee=owner_attendee, message="reply", reply_to=earlier.pk)
    with CaptureQueriesContext(connection) as queries:
        answers = wake_answers(room.token, tickets)
    return room, len(queries), answers, users


def test_a_wake_costs_the_same_statements_whatever_the_number_of_waiters(
    owner: User, client_for: Callable[[User], Any]
) -> None:
    _, few, _, _ = wake_queries(owner, 2)
    room, many, answers, users = wake_queries(owner, 8)

    # the attendees with their users, the page, the read markers (one UPDATE, in a savepoint
    # here), the viewers' own reactions: 6 statements for 2 waiters as for 8
    assert few == many == 6
    for user, answer in zip(users, answers, strict=True):
        assert isinstance(answer, HttpResponse)
        last_known = int(answer["X-Chat-Last-Given"]) - 1
        fresh = client_for(user).get(chat_url(room), {"lookIntoFuture": 1, "lastKnownMessageId": last_known})
        fresh.render()
        assert answer.content == fresh.content
        assert answer["X-Chat-Last-Given"] == fresh["X-Chat-Last-Given"]
    assert {user.pk for user in users} == set(
        Attendee.objects.filter(user__in=users, last_read_message=int(answers[0]["X-Chat-Last-Given"])).values_list(
            "user_id", flat=True
        )
    )


def test_a_waiter_whose_app_password_was_revoked_or_who_was_removed_is_not_answered_with_messages(
    room: Conversation, owner: User
) -> None:
    users = add_students(room, 2)
    last_known = newest_id(room)
    kept, revoked = tickets_for(room, users, last_known)
    revoked = dataclasses.replace(revoked, app_password_id=987654)  # no such app password (any more)
    Attendee.objects.filter(room=room, user=users[0]).delete()
    chat_message_post(attendee=Attendee.objects.get(room=room, user=owner), message="secret")

    assert wake_answers(room.token, [kept, revoked]) == [FALLBACK, FALLBACK]


def test_nothing_new_for_a_waiter_keeps_it_waiting(room: Conversation, owner: User) -> None:
    users = add_students(room, 1)
    tickets = tickets_for(room, users, newest_id(room))

    assert wake_answers(room.token, tickets) == [None]
