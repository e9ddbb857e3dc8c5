"""Waking many long polls of one room at once, for the price of one (the sync half).

A long poll's first read runs the whole chat view (``LongPollChatView``: authentication, access
checks, validation, the read). When it finds nothing new, the view leaves a ``WaitTicket`` on the
request: what the woken read will need (the caller, their credential, their attendee row, the
page asked for, and the view instance, whose DRF request carries the negotiated renderer).

When a message arrives, the woken long polls of one room in one process are answered together
by ``wake_answers``, in a constant number of statements whatever their number: their attendee
rows (with the users) in one query, the app passwords in one, the new messages once (one query
covering every waiter's page), the viewers' own reactions in one, the read markers in one UPDATE
per distinct message id. Each waiter then gets the page its own request would have read, rendered
for it by the same presenters and the same DRF renderer; waiters whose answer is the same bytes
(same page, same viewer, same OCS version) share one rendering.

What differs per client is re-checked per client, exactly as the full view would on a re-run:
the user still active, the password unchanged (Basic with a password) or the app password not
revoked, still an attendee of the room, not held in the lobby. A waiter for which any of this
does not hold, or whose room has a lobby timer or a breakout end that has passed (the full view
writes then), gets ``FALLBACK``: its long poll runs the full view again, which answers what it
always answered (401, 404, 412, ...). A client removed from the room is never answered with
messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from django.db import connection
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import AppPasswordCredential, OCSBasicAuthentication
from accounts.models import AppPassword, User
from conversations.chat_extra_views import ChatWithHistoryView
from conversations.models import Attendee, ChatMessage, Conversation, Reaction
from conversations.permissions import is_held_in_lobby
from conversations.presenters import message_with_parent_payload
from conversations.selectors import chat_page_read
from conversations.serializers import ChatReadInput
from conversations.services.chat import chat_read_markers_advance
from conversations.services.lobby import lobby_timer_due
from conversations.services.primitives import tree_end_due
from project.ocs.renderers import is_ocs_v1

TICKET_ATTRIBUTE: Final = "chat_wait_ticket"


class _Fallback:
    def __repr__(self) -> str:
        return "FALLBACK"


FALLBACK: Final = _Fallback()
# What a woken waiter gets: its response, None (nothing new for it yet: wait on), or FALLBACK.
WakeAnswer = HttpResponse | None | _Fallback


@dataclass(frozen=True)
class WaitTicket:
    view: LongPollChatView
    user_id: int
    password: str  # the user's password hash as authenticated
    basic_password: bool  # authenticated by Basic with the real password (not an app password)
    app_password_id: int | None
    last_known_message_id: int
    limit: int
    # False inside a transaction (tests): another thread would not see its rows; the waiter then
    # re-runs the full view in its own thread, as before.
    shareable: bool


class LongPollChatView(ChatWithHistoryView):
    """The chat view of a long poll's own reads: answers exactly as ``ChatWithHistoryView`` and,
    when a long poll finds nothing new (304), leaves a ``WaitTicket`` on the request and gives
    the database connection back before the wait."""

    def get(self, request: Request, token: str) -> HttpResponse | Response:
        response = super().get(request, token)
        if response.status_code == 304 and self.attendee is not None:
            values = ChatReadInput.from_request(request)
            user = request.user
            assert isinstance(user, User)
            credential = request.auth
            ticket = WaitTicket(
                view=self,
                user_id=user.pk,
                password=user.password,
                basic_password=isinstance(request.successful_authenticator, OCSBasicAuthentication)
                and not isinstance(credential, AppPasswordCredential),
                app_password_id=credential.app_password_id if isinstance(credential, AppPasswordCredential) else None,
                last_known_message_id=values["lastKnownMessageId"],
                limit=values["limit"],
                shareable=not connection.in_atomic_block,
            )
            setattr(request._request, TICKET_ATTRIBUTE, ticket)
            if ticket.shareable:
                connection.close()
        return response


def wait_ticket(request: Any) -> WaitTicket | None:
    """The ticket the last read of this request left, if it found nothing new."""
    ticket = getattr(request, TICKET_ATTRIBUTE, None)
    return ticket if isinstance(ticket, WaitTicket) else None


def wait_ticket_clear(request: Any) -> None:
    if hasattr(request, TICKET_ATTRIBUTE):
        delattr(request, TICKET_ATTRIBUTE)


def _credential_holds(ticket: WaitTicket, user: User, live_app_passwords: set[int]) -> bool:
    """What the authentication of a re-run would decide, from the rows just read."""
    if not user.is_active:
        return False
    if ticket.app_password_id is not None:
        return ticket.app_password_id in live_app_passwords
    return not ticket.basic_password or user.password == ticket.password


def _pages(room: Conversation, tickets: Sequence[WaitTicket | None]) -> dict[tuple[int, int], list[ChatMessage]]:
    """The page of every (lastKnownMessageId, limit) asked for: one query covering them all
    (from the lowest id known, as many rows as the largest limit); only a page that this read
    cannot prove complete (a waiter far behind the others) gets a query of its own."""
    keys = {(t.last_known_message_id, t.limit) for t in tickets if t is not None}
    if not keys:
        return {}
    lowest, largest = min(key[0] for key in keys), max(key[1] for key in keys)
    rows = chat_page_read(room=room, look_into_future=True, limit=largest, last_known_message_id=lowest)
    complete = len(rows) < largest
    pages: dict[tuple[int, int], list[ChatMessage]] = {}
    for last_known, limit in keys:
        page = [message for message in rows if message.pk > last_known][:limit]
        if not complete and len(page) < limit:
            page = chat_page_read(room=room, look_into_future=True, limit=limit, last_known_message_id=last_known)
        pages[last_known, limit] = page
    return pages


def _own_reactions(actor_ids: set[str], message_ids: set[int]) -> dict[str, dict[int, list[str]]]:
    """``reactions_of_viewer`` for many viewers in one query: actor id -> message id -> emoji."""
    mine: dict[str, dict[int, list[str]]] = {}
    if not actor_ids or not message_ids:
        return mine
    rows = (
        Reaction.objects.filter(
            message_id__in=sorted(message_ids), actor_type=Attendee.ACTOR_USERS, actor_id__in=sorted(actor_ids)
        )
        .order_by("id")
        .values_list("actor_id", "message_id", "reaction")
    )
    for actor_id, message_id, reaction in rows:
        mine.setdefault(actor_id, {}).setdefault(message_id, []).append(reaction)
    return mine


def _payloads(page: list[ChatMessage], attendee: Attendee) -> list[dict[str, Any]]:
    return [message_with_parent_payload(message, attendee=attendee) for message in page]


def _with_reactions_self(payloads: list[dict[str, Any]], mine: dict[int, list[str]]) -> None:
    """``reactions_attach`` with the viewer's reactions already read."""
    targets = payloads + [p["parent"] for p in payloads if isinstance(p.get("parent"), dict)]
    for payload in targets:
        if payload.get("reactions") and payload["id"] in mine:
            payload["reactionsSelf"] = mine[payload["id"]]


def _render(ticket: WaitTicket, attendee: Attendee, payloads: list[dict[str, Any]], last_given: int) -> HttpResponse:
    """The response the view's ``get`` builds, finalized and rendered by the ticket's own view
    (its negotiated renderer, its default headers) exactly as DRF does at the end of a dispatch."""
    view = ticket.view
    response = Response(payloads)
    response["X-Chat-Last-Given"] = str(last_given)
    view.headers = dict(view.default_response_headers)
    view.attendee = None  # reactionsSelf is attached already (for every waiter in one query)
    finalized = view.finalize_response(view.request, response)
    finalized.render()
    return finalized


def _copy(rendered: HttpResponse) -> HttpResponse:
    """An independent response with the same status, headers and body (middleware adds its
    headers per request to each copy)."""
    copy = HttpResponse(rendered.content, status=rendered.status_code, headers=dict(rendered.items()))
    copy.ocs_status = getattr(rendered, "ocs_status", rendered.status_code)  # type: ignore[attr-defined]
    return copy


def wake_answers(token: str, tickets: Sequence[WaitTicket]) -> list[WakeAnswer]:
    """The answers of woken long polls of the room ``token``, one per ticket, in a constant
    number of statements (see the module docstring). Runs in a thread of its own and gives the
    connection back."""
    try:
        return _wake_answers(token, tickets)
    finally:
        if not connection.in_atomic_block:
            connection.close()


def _wake_answers(token: str, tickets: Sequence[WaitTicket]) -> list[WakeAnswer]:
    attendees = {
        attendee.user_id: attendee
        for attendee in Attendee.objects.select_related("room", "room__parent", "user").filter(
            room__token=token, actor_type=Attendee.ACTOR_USERS, user_id__in=sorted({t.user_id for t in tickets})
        )
    }
    if not attendees:
        return [FALLBACK] * len(tickets)
    room = next(iter(attendees.values())).room
    if lobby_timer_due(room) or tree_end_due(room):
        return [FALLBACK] * len(tickets)  # the full view applies them (writes), rare
    for attendee in attendees.values():
        attendee.room = room  # one instance: the presenters read the token only
    app_ids = {t.app_password_id for t in tickets if t.app_password_id is not None}
    live_app_passwords = set(AppPassword.objects.filter(pk__in=sorted(app_ids)).values_list("pk", flat=True))

    served: list[tuple[WaitTicket, Attendee] | None] = []
    for ticket in tickets:
        found = attendees.get(ticket.user_id)
        ok = (
            found is not None
            and found.user is not None
            and _credential_holds(ticket, found.user, live_app_passwords)
            and not is_held_in_lobby(found, room)
        )
        served.append((ticket, found) if ok and found is not None else None)
    pages = _pages(room, [entry[0] if entry else None for entry in served])

    markers: dict[int, int] = {}
    for entry in served:
        if entry is None:
            continue
        ticket, attendee = entry
        page = pages[ticket.last_known_message_id, ticket.limit]
        if page and attendee.last_read_message < page[-1].pk:
            markers[attendee.pk] = max(markers.get(attendee.pk, 0), page[-1].pk)
    chat_read_markers_advance(targets=markers)

    # Payloads once per (page, viewer); the viewers' own reactions in one query.
    payloads: dict[tuple[tuple[int, ...], str], list[dict[str, Any]]] = {}
    for entry in served:
        if entry is None:
            continue
        ticket, attendee = entry
        page = pages[ticket.last_known_message_id, ticket.limit]
        key = (tuple(message.pk for message in page), attendee.actor_id)
        if page and key not in payloads:
            payloads[key] = _payloads(page, attendee)
    reacted = {
        p["id"]
        for page_payloads in payloads.values()
        for payload in page_payloads
        for p in (payload, payload.get("parent"))
        if isinstance(p, dict) and p.get("reactions")
    }
    mine = _own_reactions({actor for _, actor in payloads}, reacted)
    for (_, actor_id), page_payloads in payloads.items():
        _with_reactions_self(page_payloads, mine.get(actor_id, {}))

    answers: list[WakeAnswer] = []
    rendered: dict[tuple[object, ...], HttpResponse] = {}
    for entry in served:
        if entry is None:
            answers.append(FALLBACK)
            continue
        ticket, attendee = entry
        page = pages[ticket.last_known_message_id, ticket.limit]
        if not page:
            answers.append(None)
            continue
        ids = tuple(message.pk for message in page)
        drf_request = ticket.view.request
        render_key = (ids, attendee.actor_id, is_ocs_v1(drf_request.path), drf_request.accepted_media_type)
        template = rendered.get(render_key)
        if template is None:
            template = rendered[render_key] = _render(ticket, attendee, payloads[ids, attendee.actor_id], ids[-1])
            answers.append(template)
        else:
            answers.append(_copy(template))
    return answers
