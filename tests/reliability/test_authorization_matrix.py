"""The authorization matrix: every OCS operation of the OpenAPI schema, on a parent and on a
breakout room, called by each kind of caller, against one table of expected statuses derived
from the contract.

The world (built through the API once per module, rolled back afterwards; each cell runs in a
savepoint of its own, so destructive calls do not leak into the next cell): a parent "Class"
owned by ``owner`` with the moderators ``moderator`` and ``helper``, configured in free mode
(3) with two breakout rooms and started; ``student`` is in Room 1, ``other`` in Room 2;
``outsider`` is in neither. The breakout target of the matrix is Room 1, where ``student`` has
asked for assistance (an open request in the queue). One bot, "Matrix bot" (webhook + response),
is installed by the operator's command and set up in the parent before configure (so Room 1 and
Room 2 inherit it); it has reacted to the student's message in the parent and in Room 1.

Callers: owner, moderator, student, other (a student of another breakout room), outsider,
anonymous, the owner with a wrong password and the owner with a revoked app password. Nobody is
a superuser.

Bot requests (``BOT_SIGNED``) are authenticated by the bot's signature, not by a login: every
caller sends its own credentials (or none, or wrong ones) together with a valid signature of the
world's bot, and all get the same answer, the operation's success (the login is ignored, a wrong
password is no 401). Which signatures are accepted (wrong secret, replayed random, a bot not set up
in the conversation, a disabled bot, a missing signature) is the subject of tests/bots/test_api.py.

A new operation in the schema without a row in ``EXPECTED`` fails
``test_every_operation_of_the_schema_has_a_row``. Cells where today's code disagrees with the
contract are ``xfail(strict=True)`` with the reason (``DISAGREEMENTS``): fixing the code turns
them into failures until the mark is removed.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from PIL import Image

from tests.reliability.client import OCS, V1, V4, Answer, Caller, user_create

PASSWORD = "matrix-password"
BOT_SECRET = "matrix-bot-secret-of-forty-or-more-characters-0123456789"
REACTED = "\N{THUMBS UP SIGN}"  # every attendee of the world reacted so to the student's message
ROLES = ["owner", "moderator", "student", "other", "outsider", "anonymous", "wrong-password", "revoked-app-password"]
NOT_LOGGED_IN = {"anonymous": 401, "wrong-password": 401, "revoked-app-password": 401}

P, B, N = "parent", "breakout", "none"  # the token in the path: the parent, Room 1, or no token

# (method, path after /ocs/v2.php/, target) -> statuses of owner, moderator, student, other,
# outsider. Anonymous, wrong password and revoked app password are 401 everywhere (decision 12)
# except where ANONYMOUS_OK says otherwise. Sources: contract 1.0 (access checks: 404 for a
# non-attendee, 403 for a non-moderator on "mod" endpoints, 412 lobby rule), 1.1-1.12, 5.2, 5.3
# and the decisions; README "Behaviour and decisions" for the project's own refusals.
EXPECTED: dict[tuple[str, str, str], tuple[int, int, int, int, int]] = {
    # server endpoints
    ("GET", "cloud/capabilities", N): (200, 200, 200, 200, 200),
    ("GET", "cloud/user", N): (200, 200, 200, 200, 200),
    ("GET", "core/getapppassword", N): (200, 200, 200, 200, 200),
    # conversations
    ("GET", "apps/spreed/api/v4/room", N): (200, 200, 200, 200, 200),
    ("POST", "apps/spreed/api/v4/room", N): (201, 201, 201, 201, 201),
    ("GET", "apps/spreed/api/v4/room/{token}", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v4/room/{token}", B): (200, 200, 200, 404, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}", P): (200, 200, 403, 403, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}", B): (200, 200, 403, 404, 404),
    ("DELETE", "apps/spreed/api/v4/room/{token}", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v4/room/{token}", B): (200, 200, 403, 404, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}/description", P): (200, 200, 403, 403, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}/description", B): (200, 200, 403, 404, 404),
    ("GET", "apps/spreed/api/v4/room/{token}/participants", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v4/room/{token}/participants", B): (200, 200, 200, 404, 404),
    # adds "other" (already in the parent: no-op; into Room 1: moved there, 1.12)
    ("POST", "apps/spreed/api/v4/room/{token}/participants", P): (200, 200, 403, 403, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/participants", B): (200, 200, 403, 404, 404),
    # leaving: a parent moderator cannot leave one breakout room (README: 400 moderator)
    ("DELETE", "apps/spreed/api/v4/room/{token}/participants/self", P): (200, 200, 200, 200, 404),
    ("DELETE", "apps/spreed/api/v4/room/{token}/participants/self", B): (400, 400, 200, 404, 404),
    # removes the student
    ("DELETE", "apps/spreed/api/v4/room/{token}/attendees", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v4/room/{token}/attendees", B): (200, 200, 403, 404, 404),
    # promotes the student (inside a breakout room: only that room, 4.4)
    ("POST", "apps/spreed/api/v4/room/{token}/moderators", P): (200, 200, 403, 403, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/moderators", B): (200, 200, 403, 404, 404),
    # demotes the helper (a parent moderator inside one breakout room: README 400 moderator)
    ("DELETE", "apps/spreed/api/v4/room/{token}/moderators", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v4/room/{token}/moderators", B): (400, 400, 403, 404, 404),
    # lobby of a breakout room: always 400 breakout-room (1.12)
    ("PUT", "apps/spreed/api/v4/room/{token}/webinar/lobby", P): (200, 200, 403, 403, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}/webinar/lobby", B): (400, 400, 403, 404, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}/listable", P): (200, 200, 403, 403, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}/listable", B): (400, 400, 403, 404, 404),
    # public: a parent with mode != 0 and a breakout room: 400 breakout-room (1.12)
    ("POST", "apps/spreed/api/v4/room/{token}/public", P): (400, 400, 403, 403, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/public", B): (400, 400, 403, 404, 404),
    ("DELETE", "apps/spreed/api/v4/room/{token}/public", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v4/room/{token}/public", B): (200, 200, 403, 404, 404),
    # a password on a non-public room: 400 type (decision 5, newest reference)
    ("PUT", "apps/spreed/api/v4/room/{token}/password", P): (400, 400, 403, 403, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}/password", B): (400, 400, 403, 404, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/message-expiration", P): (200, 200, 403, 403, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/message-expiration", B): (400, 400, 403, 404, 404),
    # chat (lobby rule: the rooms are started, so their lobby is off)
    ("GET", "apps/spreed/api/v1/chat/{token}", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v1/chat/{token}", B): (200, 200, 200, 404, 404),
    ("POST", "apps/spreed/api/v1/chat/{token}", P): (201, 201, 201, 201, 404),
    ("POST", "apps/spreed/api/v1/chat/{token}", B): (201, 201, 201, 404, 404),
    # breakout management (1.1-1.9); on a breakout room the endpoint's own checks answer
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}", P): (400, 400, 403, 403, 404),  # configured: room
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}", B): (400, 400, 403, 404, 404),  # a breakout room: room
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}", B): (200, 200, 403, 404, 404),  # no validation (1.2)
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/rooms", P): (200, 200, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/rooms", B): (400, 400, 403, 404, 404),  # mode
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/rooms", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/rooms", B): (400, 400, 403, 404, 404),  # mode
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/broadcast", P): (201, 201, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/broadcast", B): (400, 400, 403, 404, 404),  # mode
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/attendees", P): (200, 200, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/attendees", B): (400, 400, 403, 404, 404),  # mode
    # assistance: any attendee of the breakout room; on a parent 400 room (1.7)
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/request-assistance", P): (400, 400, 400, 400, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/request-assistance", B): (200, 200, 200, 404, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/request-assistance", P): (400, 400, 400, 400, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/request-assistance", B): (200, 200, 200, 404, 404),
    # switch into Room 1: moderators 400 moderator, students 200 (1.9); on a breakout room 400 mode
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/switch", P): (400, 400, 200, 200, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/switch", B): (400, 400, 400, 404, 404),
    # listings (1.10, 1.11, 5.2): started, so students see them; a breakout room has mode 0
    ("GET", "apps/spreed/api/v4/room/{token}/breakout-rooms", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v4/room/{token}/breakout-rooms", B): (400, 400, 400, 404, 404),
    ("GET", "apps/spreed/api/v4/room/{token}/breakout-rooms/participants", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v4/room/{token}/breakout-rooms/participants", B): (400, 400, 400, 404, 404),
    # --- the Talk surface (issue 10): students may do what Talk lets every participant do ---
    ("POST", "apps/spreed/api/v4/room/{token}/favorite", P): (200, 200, 200, 200, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/favorite", B): (200, 200, 200, 404, 404),
    ("DELETE", "apps/spreed/api/v4/room/{token}/favorite", P): (200, 200, 200, 200, 404),
    ("DELETE", "apps/spreed/api/v4/room/{token}/favorite", B): (200, 200, 200, 404, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/notify", P): (200, 200, 200, 200, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/notify", B): (200, 200, 200, 404, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/notify-calls", P): (200, 200, 200, 200, 404),
    ("POST", "apps/spreed/api/v4/room/{token}/notify-calls", B): (200, 200, 200, 404, 404),
    # read-only and the avatar: moderators, allowed on breakout rooms (1.12)
    ("PUT", "apps/spreed/api/v4/room/{token}/read-only", P): (200, 200, 403, 403, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}/read-only", B): (200, 200, 403, 404, 404),
    # default permissions of a breakout room: 400 breakout-room (1.12)
    ("PUT", "apps/spreed/api/v4/room/{token}/permissions/{mode}", P): (200, 200, 403, 403, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}/permissions/{mode}", B): (400, 400, 403, 404, 404),
    # the student's own permissions (set); Talk has no breakout rule here
    ("PUT", "apps/spreed/api/v4/room/{token}/attendees/permissions", P): (200, 200, 403, 403, 404),
    ("PUT", "apps/spreed/api/v4/room/{token}/attendees/permissions", B): (200, 200, 403, 404, 404),
    ("GET", "apps/spreed/api/v1/room/{token}/avatar", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v1/room/{token}/avatar", B): (200, 200, 200, 404, 404),
    ("GET", "apps/spreed/api/v1/room/{token}/avatar/dark", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v1/room/{token}/avatar/dark", B): (200, 200, 200, 404, 404),
    ("POST", "apps/spreed/api/v1/room/{token}/avatar/emoji", P): (200, 200, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/room/{token}/avatar/emoji", B): (200, 200, 403, 404, 404),
    ("POST", "apps/spreed/api/v1/room/{token}/avatar", P): (200, 200, 403, 403, 404),  # a PNG upload
    ("POST", "apps/spreed/api/v1/room/{token}/avatar", B): (200, 200, 403, 404, 404),
    ("DELETE", "apps/spreed/api/v1/room/{token}/avatar", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v1/room/{token}/avatar", B): (200, 200, 403, 404, 404),
    # clearing the history: moderators
    ("DELETE", "apps/spreed/api/v1/chat/{token}", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v1/chat/{token}", B): (200, 200, 403, 404, 404),
    ("POST", "apps/spreed/api/v1/chat/{token}/read", P): (200, 200, 200, 200, 404),
    ("POST", "apps/spreed/api/v1/chat/{token}/read", B): (200, 200, 200, 404, 404),
    ("DELETE", "apps/spreed/api/v1/chat/{token}/read", P): (200, 200, 200, 200, 404),
    ("DELETE", "apps/spreed/api/v1/chat/{token}/read", B): (200, 200, 200, 404, 404),
    ("GET", "apps/spreed/api/v1/chat/{token}/mentions", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v1/chat/{token}/mentions", B): (200, 200, 200, 404, 404),
    # the student's message: its author and moderators edit or delete it, another student 403
    ("PUT", "apps/spreed/api/v1/chat/{token}/{message_id}", P): (200, 200, 200, 403, 404),
    ("PUT", "apps/spreed/api/v1/chat/{token}/{message_id}", B): (200, 200, 200, 404, 404),
    ("DELETE", "apps/spreed/api/v1/chat/{token}/{message_id}", P): (200, 200, 200, 403, 404),
    ("DELETE", "apps/spreed/api/v1/chat/{token}/{message_id}", B): (200, 200, 200, 404, 404),
    # reactions on the student's message (each caller has already reacted with the same emoji)
    ("GET", "apps/spreed/api/v1/reaction/{token}/{message_id}", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v1/reaction/{token}/{message_id}", B): (200, 200, 200, 404, 404),
    ("POST", "apps/spreed/api/v1/reaction/{token}/{message_id}", P): (201, 201, 201, 201, 404),
    ("POST", "apps/spreed/api/v1/reaction/{token}/{message_id}", B): (201, 201, 201, 404, 404),
    ("DELETE", "apps/spreed/api/v1/reaction/{token}/{message_id}", P): (200, 200, 200, 200, 404),
    ("DELETE", "apps/spreed/api/v1/reaction/{token}/{message_id}", B): (200, 200, 200, 404, 404),
    # reminders of the student's message (each caller has one already)
    ("POST", "apps/spreed/api/v1/chat/{token}/{message_id}/reminder", P): (201, 201, 201, 201, 404),
    ("POST", "apps/spreed/api/v1/chat/{token}/{message_id}/reminder", B): (201, 201, 201, 404, 404),
    ("GET", "apps/spreed/api/v1/chat/{token}/{message_id}/reminder", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v1/chat/{token}/{message_id}/reminder", B): (200, 200, 200, 404, 404),
    ("DELETE", "apps/spreed/api/v1/chat/{token}/{message_id}/reminder", P): (200, 200, 200, 200, 404),
    ("DELETE", "apps/spreed/api/v1/chat/{token}/{message_id}/reminder", B): (200, 200, 200, 404, 404),
    ("GET", "apps/spreed/api/v1/chat/upcoming-reminders", N): (200, 200, 200, 200, 200),
    # polls: any participant creates and votes; the helper's poll is closed by moderators only
    ("POST", "apps/spreed/api/v1/poll/{token}", P): (201, 201, 201, 201, 404),
    ("POST", "apps/spreed/api/v1/poll/{token}", B): (201, 201, 201, 404, 404),
    ("GET", "apps/spreed/api/v1/poll/{token}/{poll_id}", P): (200, 200, 200, 200, 404),
    ("GET", "apps/spreed/api/v1/poll/{token}/{poll_id}", B): (200, 200, 200, 404, 404),
    ("POST", "apps/spreed/api/v1/poll/{token}/{poll_id}", P): (200, 200, 200, 200, 404),
    ("POST", "apps/spreed/api/v1/poll/{token}/{poll_id}", B): (200, 200, 200, 404, 404),
    ("DELETE", "apps/spreed/api/v1/poll/{token}/{poll_id}", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v1/poll/{token}/{poll_id}", B): (200, 200, 403, 404, 404),
    # --- assignment extensions (issue 12): moderators of a parent; a breakout room has mode 0 ---
    # shuffle needs mode 1: the world's parent is in mode 3
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/shuffle", P): (400, 400, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/shuffle", B): (400, 400, 403, 404, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/templates", P): (201, 201, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/templates", B): (400, 400, 403, 404, 404),
    ("GET", "apps/spreed/api/v1/breakout-rooms/{token}/templates", P): (200, 200, 403, 403, 404),
    ("GET", "apps/spreed/api/v1/breakout-rooms/{token}/templates", B): (200, 200, 403, 404, 404),
    # the owner's template: someone else's template is 404 (README)
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/templates/{template_id}/apply", P): (200, 404, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/templates/{template_id}/apply", B): (400, 404, 403, 404, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/templates/{template_id}", P): (200, 404, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/templates/{template_id}", B): (200, 404, 403, 404, 404),
    ("GET", "apps/spreed/api/v1/breakout-rooms/{token}/history", P): (200, 200, 403, 403, 404),
    # a breakout room hosts no rounds: its moderators get an empty history
    ("GET", "apps/spreed/api/v1/breakout-rooms/{token}/history", B): (200, 200, 403, 404, 404),
    # --- timers, one room at a time, assistance queue (issue 11): moderators of the parent only
    # (others 403, outsiders 404; README "Timers", "One room at a time", "Assistance queue") ---
    # the timer takes the parent's token; on a breakout room 400 status ("not started" parent)
    ("PUT", "apps/spreed/api/v1/breakout-rooms/{token}/timer", P): (200, 200, 403, 403, 404),
    ("PUT", "apps/spreed/api/v1/breakout-rooms/{token}/timer", B): (400, 400, 403, 404, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/timer", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/timer", B): (400, 400, 403, 404, 404),
    # open / close one room takes a breakout room's token; the parent's is 400 room
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/open", P): (400, 400, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/open", B): (200, 200, 403, 404, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/open", P): (400, 400, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/open", B): (200, 200, 403, 404, 404),
    # the queue of the parent; a breakout room has no rooms: its moderators get an empty queue
    # (as its history, above)
    ("GET", "apps/spreed/api/v1/breakout-rooms/{token}/assistance", P): (200, 200, 403, 403, 404),
    ("GET", "apps/spreed/api/v1/breakout-rooms/{token}/assistance", B): (200, 200, 403, 404, 404),
    # the claim of Room 1's open request; the parent's token is 400 room
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/assistance/claim", P): (400, 400, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/assistance/claim", B): (200, 200, 403, 404, 404),
    # --- bots (issue 13; README "Bots") ---
    # superusers only, and nobody of the world is one
    ("GET", "apps/spreed/api/v1/bot/admin", N): (403, 403, 403, 403, 403),
    # moderators of the conversation (others 403, outsiders 404); the world's bot is already set up
    # in both (the parent's, inherited by Room 1): setting it up again is 200, not 201
    ("GET", "apps/spreed/api/v1/bot/{token}", P): (200, 200, 403, 403, 404),
    ("GET", "apps/spreed/api/v1/bot/{token}", B): (200, 200, 403, 404, 404),
    ("POST", "apps/spreed/api/v1/bot/{token}/{bot_id}", P): (200, 200, 403, 403, 404),
    ("POST", "apps/spreed/api/v1/bot/{token}/{bot_id}", B): (200, 200, 403, 404, 404),
    ("DELETE", "apps/spreed/api/v1/bot/{token}/{bot_id}", P): (200, 200, 403, 403, 404),
    ("DELETE", "apps/spreed/api/v1/bot/{token}/{bot_id}", B): (200, 200, 403, 404, 404),
    # signed by the world's bot (BOT_SIGNED): the same answer whoever sends it
    ("POST", "apps/spreed/api/v1/bot/{token}/message", P): (201, 201, 201, 201, 201),
    ("POST", "apps/spreed/api/v1/bot/{token}/message", B): (201, 201, 201, 201, 201),
    ("POST", "apps/spreed/api/v1/bot/{token}/reaction/{message_id}", P): (201, 201, 201, 201, 201),
    ("POST", "apps/spreed/api/v1/bot/{token}/reaction/{message_id}", B): (201, 201, 201, 201, 201),
    ("DELETE", "apps/spreed/api/v1/bot/{token}/reaction/{message_id}", P): (200, 200, 200, 200, 200),
    ("DELETE", "apps/spreed/api/v1/bot/{token}/reaction/{message_id}", B): (200, 200, 200, 200, 200),
}
# Operations that answer anonymous callers (contract 7: capabilities are public).
ANONYMOUS_OK = {("GET", "cloud/capabilities", N): 200}
# Requests of bots: signed by the world's bot whoever the caller is; no login is needed or looked
# at, so the callers without a valid login get the row's (single) status too.
BOT_SIGNED: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "apps/spreed/api/v1/bot/{token}/message"),
        ("POST", "apps/spreed/api/v1/bot/{token}/reaction/{message_id}"),
        ("DELETE", "apps/spreed/api/v1/bot/{token}/reaction/{message_id}"),
    }
)

# Error keys the contract names for the 400 cells (checked too, so a 400 for the wrong reason fails).
ERROR_KEYS: dict[tuple[str, str, str], str | None] = {
    ("DELETE", "apps/spreed/api/v4/room/{token}/participants/self", B): "moderator",
    ("DELETE", "apps/spreed/api/v4/room/{token}/moderators", B): "moderator",
    ("PUT", "apps/spreed/api/v4/room/{token}/webinar/lobby", B): "breakout-room",
    ("PUT", "apps/spreed/api/v4/room/{token}/listable", B): "breakout-room",
    ("POST", "apps/spreed/api/v4/room/{token}/public", P): "breakout-room",
    ("POST", "apps/spreed/api/v4/room/{token}/public", B): "breakout-room",
    ("PUT", "apps/spreed/api/v4/room/{token}/password", P): "type",
    ("PUT", "apps/spreed/api/v4/room/{token}/password", B): "type",
    ("POST", "apps/spreed/api/v4/room/{token}/message-expiration", B): "breakout-room",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}", P): "room",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}", B): "room",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/rooms", B): "mode",
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/rooms", B): "mode",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/broadcast", B): "mode",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/attendees", B): "mode",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/request-assistance", P): "room",
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/request-assistance", P): "room",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/switch", P): "moderator",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/switch", B): "mode",
    ("GET", "apps/spreed/api/v4/room/{token}/breakout-rooms", B): "mode",
    ("GET", "apps/spreed/api/v4/room/{token}/breakout-rooms/participants", B): "mode",
    ("PUT", "apps/spreed/api/v4/room/{token}/permissions/{mode}", B): "breakout-room",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/shuffle", P): "mode",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/shuffle", B): "mode",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/templates", B): "mode",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/templates/{template_id}/apply", B): "room",
    ("PUT", "apps/spreed/api/v1/breakout-rooms/{token}/timer", B): "status",
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/timer", B): "status",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/open", P): "room",
    ("DELETE", "apps/spreed/api/v1/breakout-rooms/{token}/open", P): "room",
    ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/assistance/claim", P): "room",
}

# Cells where today's code disagrees with the contract: (operation, role) -> reason.
DISAGREEMENTS: dict[tuple[tuple[str, str, str], str], str] = {}


def _body(method: str, path: str, target: str, world: World) -> dict[str, Any] | None:
    """The parameters each operation is called with: valid ones, so that an allowed caller gets
    the operation's success (or the contract's answer for the world's state)."""
    room = world.room1 if target == B else world.parent
    ids = world.attendee_ids[room]
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "apps/spreed/api/v4/room"): {"roomType": 2, "roomName": "Another class"},
        ("PUT", "apps/spreed/api/v4/room/{token}"): {"roomName": "Renamed"},
        ("PUT", "apps/spreed/api/v4/room/{token}/description"): {"description": "About this room"},
        ("POST", "apps/spreed/api/v4/room/{token}/participants"): {"newParticipant": "other"},
        ("DELETE", "apps/spreed/api/v4/room/{token}/attendees"): {"attendeeId": ids["student"]},
        ("POST", "apps/spreed/api/v4/room/{token}/moderators"): {"attendeeId": ids["student"]},
        ("DELETE", "apps/spreed/api/v4/room/{token}/moderators"): {"attendeeId": ids["helper"]},
        ("PUT", "apps/spreed/api/v4/room/{token}/webinar/lobby"): {"state": 1},
        ("PUT", "apps/spreed/api/v4/room/{token}/listable"): {"scope": 1},
        ("PUT", "apps/spreed/api/v4/room/{token}/password"): {"password": "a-long-room-password"},
        ("POST", "apps/spreed/api/v4/room/{token}/message-expiration"): {"seconds": 3600},
        ("POST", "apps/spreed/api/v1/chat/{token}"): {"message": "hello"},
        ("POST", "apps/spreed/api/v1/breakout-rooms/{token}"): {"mode": 1, "amount": 2},
        ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/broadcast"): {"message": "hello everyone"},
        ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/attendees"): {"attendeeMap": "{}"},
        ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/switch"): {"target": world.room1},
        ("PUT", "apps/spreed/api/v4/room/{token}/read-only"): {"state": 1},
        ("PUT", "apps/spreed/api/v4/room/{token}/permissions/{mode}"): {"permissions": 134},
        ("PUT", "apps/spreed/api/v4/room/{token}/attendees/permissions"): {
            "attendeeId": ids["student"],
            "method": "set",
            "permissions": 134,
        },
        ("POST", "apps/spreed/api/v4/room/{token}/notify"): {"level": 2},
        ("POST", "apps/spreed/api/v4/room/{token}/notify-calls"): {"level": 0},
        ("POST", "apps/spreed/api/v1/room/{token}/avatar/emoji"): {"emoji": "\N{GRADUATION CAP}", "color": "ff0000"},
        ("GET", "apps/spreed/api/v1/chat/{token}/mentions"): {"search": "s"},
        ("PUT", "apps/spreed/api/v1/chat/{token}/{message_id}"): {"message": "edited"},
        ("POST", "apps/spreed/api/v1/reaction/{token}/{message_id}"): {"reaction": "\N{PARTY POPPER}"},
        ("DELETE", "apps/spreed/api/v1/reaction/{token}/{message_id}"): {"reaction": REACTED},
        ("POST", "apps/spreed/api/v1/chat/{token}/{message_id}/reminder"): {"timestamp": 4102444800},
        ("POST", "apps/spreed/api/v1/poll/{token}"): {"question": "Lunch?", "options": ["Yes", "No"]},
        ("POST", "apps/spreed/api/v1/poll/{token}/{poll_id}"): {"optionIds": [0]},
        ("POST", "apps/spreed/api/v1/breakout-rooms/{token}/templates"): {"name": "Week 2"},
        ("PUT", "apps/spreed/api/v1/breakout-rooms/{token}/timer"): {"duration": 300},
        ("POST", "apps/spreed/api/v1/bot/{token}/message"): {"message": "hello from the bot"},
        ("POST", "apps/spreed/api/v1/bot/{token}/reaction/{message_id}"): {"reaction": "\N{PARTY POPPER}"},
        ("DELETE", "apps/spreed/api/v1/bot/{token}/reaction/{message_id}"): {"reaction": REACTED},
    }
    return bodies.get((method, path))


@dataclass
class World:
    parent: str
    room1: str
    room2: str
    attendee_ids: dict[str, dict[str, int]]  # room token -> user id -> attendee id
    message_ids: dict[str, int]  # room token -> the student's message (reacted to, with reminders)
    poll_ids: dict[str, int]  # room token -> the helper's poll
    template_id: int  # the owner's template, saved from the parent
    bot_id: int  # the world's bot, set up in the parent and (inherited) in its rooms
    passwords: dict[str, tuple[str, str] | None]  # role -> Basic credentials

    def caller(self, role: str) -> Caller:
        credentials = self.passwords[role]
        return Caller(*credentials) if credentials else Caller()


def _app_password_model() -> Any:
    return next(model for model in apps.get_models() if model.__name__ == "AppPassword")


def _build_world() -> World:
    names = ["owner", "moderator", "helper", "student", "other", "outsider"]
    for name in names:
        user_create(name, PASSWORD)
    callers = {name: Caller(name, PASSWORD) for name in names}
    owner = callers["owner"]

    def ok(answer: Answer, status: int = 200) -> Answer:
        assert answer.status == status, answer.body
        return answer

    parent = ok(owner.post(f"{V4}/room", {"roomType": 2, "roomName": "Class"}), 201).data["token"]
    for name in ["moderator", "helper", "student", "other"]:
        ok(owner.post(f"{V4}/room/{parent}/participants", {"newParticipant": name}))

    def attendee_ids(token: str) -> dict[str, int]:
        participants = ok(owner.get(f"{V4}/room/{token}/participants")).data
        return {p["actorId"]: p["attendeeId"] for p in participants if p["actorType"] == "users"}

    ids = attendee_ids(parent)
    for name in ["moderator", "helper"]:
        ok(owner.post(f"{V4}/room/{parent}/moderators", {"attendeeId": ids[name]}))
    # The operator installs the bot; the owner sets it up before configure, so the rooms inherit it.
    call_command("bot", "install", "Matrix bot", BOT_SECRET, "https://bots.example.org/matrix", stdout=io.StringIO())
    bot_id = next(bot["id"] for bot in ok(owner.get(f"{V1}/bot/{parent}")).data if bot["name"] == "Matrix bot")
    ok(owner.post(f"{V1}/bot/{parent}/{bot_id}"), 201)
    rooms = ok(owner.post(f"{V1}/breakout-rooms/{parent}", {"mode": 3, "amount": 2})).data
    room1, room2 = rooms[0]["token"], rooms[1]["token"]
    attendee_map = f'{{"{ids["student"]}": 0, "{ids["other"]}": 1}}'
    ok(owner.post(f"{V1}/breakout-rooms/{parent}/attendees", {"attendeeMap": attendee_map}))
    ok(owner.post(f"{V1}/breakout-rooms/{parent}/rooms"))

    message_ids, poll_ids = {}, {}
    for token, members in [(parent, names[:-1]), (room1, ["owner", "moderator", "helper", "student"])]:
        message_ids[token] = ok(callers["student"].post(f"{V1}/chat/{token}", {"message": "hi"}), 201).data["id"]
        for name in members:
            caller = callers[name]
            ok(caller.post(f"{V1}/reaction/{token}/{message_ids[token]}", {"reaction": REACTED}), 201)
            ok(caller.post(f"{V1}/chat/{token}/{message_ids[token]}/reminder", {"timestamp": 4102444800}), 201)
        bot_reaction = f"{V1}/bot/{token}/reaction/{message_ids[token]}"
        ok(_bot_signed(Caller(), "POST", bot_reaction, {"reaction": REACTED}), 201)
        poll = {"question": "Which topic?", "options": ["A", "B"]}
        poll_ids[token] = ok(callers["helper"].post(f"{V1}/poll/{token}", poll), 201).data["id"]
    template = ok(owner.post(f"{V1}/breakout-rooms/{parent}/templates", {"name": "Week 1"}), 201).data["id"]
    ok(callers["student"].post(f"{V1}/breakout-rooms/{room1}/request-assistance"))

    revoked = ok(owner.get(f"{OCS}/core/getapppassword")).data["apppassword"]
    # Revoking is an operator's action (admin): the row goes away.
    AppPassword = _app_password_model()
    deleted, _ = AppPassword.objects.filter(user__username="owner").delete()
    assert deleted == 1
    assert Caller("owner", revoked).get(f"{V4}/room").status == 401

    passwords: dict[str, tuple[str, str] | None] = {name: (name, PASSWORD) for name in names}
    passwords["anonymous"] = None
    passwords["wrong-password"] = ("owner", "not-the-password")
    passwords["revoked-app-password"] = ("owner", revoked)
    return World(
        parent=parent,
        room1=room1,
        room2=room2,
        attendee_ids={parent: ids, room1: attendee_ids(room1), room2: attendee_ids(room2)},
        message_ids=message_ids,
        poll_ids=poll_ids,
        template_id=template,
        bot_id=bot_id,
        passwords=passwords,
    )


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once per module inside a transaction that is rolled back at the end; every test
    runs in a savepoint of its own (the ``db`` fixture)."""
    # The setup's one 401 (the revoked app password) must not count against the test client's
    # address in the brute-force guard's cache, which later tests share.
    with django_db_blocker.unblock(), override_settings(BRUTEFORCE_PROTECTION=False):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _call(world: World, role: str, method: str, path: str, target: str) -> Answer:
    token = {P: world.parent, B: world.room1, N: ""}[target]
    url = f"{OCS}/{_fill(path, token, world)}"
    if (method, path) == ("POST", "apps/spreed/api/v1/room/{token}/avatar"):  # a multipart upload
        response = world.caller(role).client.post(url, {"file": _png()}, format="multipart")
        return Answer(status=response.status_code, body=response.content, headers=dict(response.items()))
    if (method, path) in BOT_SIGNED:
        return _bot_signed(world.caller(role), method, url, _body(method, path, target, world) or {})
    return world.caller(role).request(method, url, _body(method, path, target, world))


def _bot_signed(caller: Caller, method: str, url: str, data: dict[str, Any]) -> Answer:
    """A request of the world's bot sent by ``caller`` (with the caller's own credentials, if
    any): a fresh random and the signature over it and the message or reaction (README "Bots")."""
    random = secrets.token_hex(32)
    text = data.get("message", data.get("reaction", ""))
    signature = hmac.new(BOT_SECRET.encode(), (random + text).encode(), hashlib.sha256).hexdigest()
    headers = {"HTTP_X_NEXTCLOUD_TALK_BOT_RANDOM": random, "HTTP_X_NEXTCLOUD_TALK_BOT_SIGNATURE": signature}
    if method == "DELETE":
        response = caller.client.delete(url, QUERY_STRING=urlencode(data), **headers)
    else:
        response = caller.client.post(url, data=data, format="json", **headers)
    return Answer(status=response.status_code, body=response.content, headers=dict(response.items()))


def _png() -> SimpleUploadedFile:
    output = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(output, format="PNG")
    return SimpleUploadedFile("picture.png", output.getvalue(), content_type="image/png")


def _fill(path: str, token: str, world: World) -> str:
    """The path with its parameters: the token, the student's message, the helper's poll, the
    owner's template and the ``default`` permissions mode."""
    values = {
        "{token}": token,
        "{message_id}": str(world.message_ids.get(token, 0)),
        "{poll_id}": str(world.poll_ids.get(token, 0)),
        "{template_id}": str(world.template_id),
        "{bot_id}": str(world.bot_id),
        "{mode}": "default",
    }
    for name, value in values.items():
        path = path.replace(name, value)
    return path


def _expected(operation: tuple[str, str, str], role: str) -> int:
    if operation[:2] in BOT_SIGNED:
        return EXPECTED[operation][0]
    if role in NOT_LOGGED_IN:
        return ANONYMOUS_OK.get(operation, 401) if role == "anonymous" else NOT_LOGGED_IN[role]
    return EXPECTED[operation][ROLES.index(role)]


def _cells() -> Iterator[Any]:
    for operation in EXPECTED:
        for role in ROLES:
            method, path, target = operation
            marks = []
            reason = DISAGREEMENTS.get((operation, role))
            if reason:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            yield pytest.param(operation, role, id=f"{method} {path} [{target}] as {role}", marks=marks)


@pytest.mark.parametrize(("operation", "role"), list(_cells()))
def test_each_caller_gets_the_status_the_contract_gives(
    world: World, db: None, operation: tuple[str, str, str], role: str
) -> None:
    answer = _call(world, role, *operation)
    expected = _expected(operation, role)

    assert answer.status == expected, answer.body[:300]
    if expected == 400 and operation in ERROR_KEYS:
        assert answer.error_key == ERROR_KEYS[operation], answer.body[:300]


def _schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    prefix = f"{OCS}/"
    return {
        (method.upper(), path.removeprefix(prefix))
        for path, methods in schema["paths"].items()
        if path.startswith(prefix)
        for method in methods
    }


def test_every_operation_of_the_schema_has_a_row() -> None:
    covered = {(method, path) for method, path, _ in EXPECTED}
    token_operations = {(method, path) for method, path, target in EXPECTED if target != N}
    missing = _schema_operations() - covered
    assert not missing, f"operations without a row in the matrix: {sorted(missing)}"
    for method, path in token_operations:
        assert (method, path, P) in EXPECTED and (method, path, B) in EXPECTED, (method, path)
    assert covered <= _schema_operations(), "rows for operations that no longer exist"
    for method, path, target in EXPECTED:
        if (method, path) in BOT_SIGNED:  # one answer for every caller: the login is not looked at
            assert len(set(EXPECTED[method, path, target])) == 1, (method, path, target)


# --- 404s must not tell one kind of unknown token from another (decision 13) -------------------

PROBES = {
    "unknown well-formed token": "zzzzzzzzzz",
    "token too short for the route": "zzz",
    "token with capitals": "ZZZZZZZZ",
    "token too long for the route": "z" * 31,
}


def test_every_token_based_404_has_the_same_body(world: World, db: None) -> None:
    bodies: dict[bytes, list[str]] = {}
    for (method, path, target), statuses in EXPECTED.items():
        # Bot requests name no caller whose access could be probed: an unknown conversation is
        # "no bot signed this" (401, tests/bots/test_api.py), as in Talk.
        if target == N or (method, path) in BOT_SIGNED:
            continue
        for role, status in zip(ROLES, statuses, strict=False):
            if status == 404:
                answer = _call(world, role, method, path, target)
                bodies.setdefault(answer.body, []).append(f"{method} {path} [{target}] as {role}")
        for probe, token in PROBES.items():
            if probe == "unknown well-formed token":
                answer = world.caller("owner").request(
                    method, f"{OCS}/{_fill(path, token, world)}", _body(method, path, target, world)
                )
                assert answer.status == 404, (method, path, answer.body)
                bodies.setdefault(answer.body, []).append(f"{method} {path} with an {probe}")

    assert len(bodies) == 1, {body: where[:3] for body, where in bodies.items()}


@pytest.mark.parametrize("probe", [p for p in PROBES if p != "unknown well-formed token"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_token_outside_the_route_pattern_answers_exactly_like_an_unknown_one(
    world: World, db: None, probe: str, method: str
) -> None:
    owner = world.caller("owner")
    unknown = owner.request(method, f"{V4}/room/zzzzzzzzzz")
    malformed = owner.request(method, f"{V4}/room/{PROBES[probe]}")

    assert (malformed.status, malformed.body) == (unknown.status, unknown.body)
    assert sorted(malformed.headers) == sorted(unknown.headers)


@pytest.mark.parametrize("probe", [p for p in PROBES if p != "unknown well-formed token"])
def test_a_token_outside_the_route_pattern_reaches_no_route_whatever_the_method(
    world: World, db: None, probe: str
) -> None:
    # POST /v4/room/{token} has no route: a well-formed token gets 405 from the room route, a
    # malformed one matches no route at all and gets the canonical 404 (as in Nextcloud, whose
    # router refuses it before any method check).
    owner = world.caller("owner")
    unknown = owner.request("GET", f"{V4}/room/zzzzzzzzzz")
    malformed = owner.request("POST", f"{V4}/room/{PROBES[probe]}")

    assert (malformed.status, malformed.body) == (404, unknown.body)
