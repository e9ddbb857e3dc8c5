"""Wire formats of Talk's room, participant and chat-message objects (contract sections 3 and 4.9):
every response shape of the conversation endpoints is produced here, and only here.

Plain functions rather than DRF output serializers: a room object has fifty keys and a room list
of a large event has thousands of them, and every value here is already loaded by the selectors.
The ``*_for_user`` functions read through a selector and format what it returns, so views (and
the breakout app) get a caller's room objects in one call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from accounts.models import User
from conversations.models import Attendee, ChatMessage, Conversation, Poll, Reaction, Reminder
from conversations.permissions import (
    PERMISSION_CUSTOM,
    PERMISSION_LOBBY_IGNORE,
    PERMISSION_START_CALL,
    PERMISSIONS_DEFAULT_FOR_USERS,
    PERMISSIONS_MAX_DEFAULT,
    effective_permissions,
)
from conversations.selectors import (
    CallerRoom,
    breakout_tree_caller_rooms,
    caller_room,
)
from conversations.talk_selectors import (
    mention_matches,
    poll_vote_details,
    poll_votes_of,
    reactions_of_viewer,
    upcoming_reminders,
)
from project.ocs.renderers import JsonObject


def timestamp(value: datetime | None) -> int:
    return int(value.timestamp()) if value is not None else 0


def _by_actor(text: str, for_user: str = "") -> tuple[str, str, str]:
    """The texts of a system message whose actor reads "You" where the others read "{actor}"."""
    return text, "You " + text.removeprefix("{actor} "), for_user


# System messages: (text for everyone, text for the actor, text for the affected user).
SYSTEM_MESSAGE_TEXTS: dict[str, tuple[str, str, str]] = {
    "conversation_created": _by_actor("{actor} created the conversation"),
    "conversation_renamed": _by_actor('{actor} renamed the conversation from "{oldName}" to "{newName}"'),
    "description_set": _by_actor("{actor} set the description"),
    "description_removed": _by_actor("{actor} removed the description"),
    "user_added": _by_actor("{actor} added {user}", "{actor} added you"),
    "user_removed": _by_actor("{actor} removed {user}", "{actor} removed you"),
    "moderator_promoted": _by_actor("{actor} promoted {user} to moderator", "{actor} promoted you to moderator"),
    "moderator_demoted": _by_actor("{actor} demoted {user} from moderator", "{actor} demoted you from moderator"),
    "lobby_none": _by_actor("{actor} opened the conversation to everyone"),
    "lobby_non_moderators": _by_actor("{actor} restricted the conversation to moderators"),
    "lobby_timer_reached": ("The conversation is now open to everyone", "The conversation is now open to everyone", ""),
    "listable_none": _by_actor("{actor} limited the conversation to the current participants"),
    "listable_users": _by_actor("{actor} opened the conversation accessible to registered users"),
    "listable_all": _by_actor(
        "{actor} opened the conversation accessible to registered users and users created with the Guests app"
    ),
    "guests_allowed": _by_actor("{actor} allowed guests"),
    "guests_disallowed": _by_actor("{actor} disallowed guests"),
    "password_set": _by_actor("{actor} set a password"),
    "password_removed": _by_actor("{actor} removed the password"),
    "message_expiration_enabled": _by_actor("{actor} set the message expiration to {seconds} seconds"),
    "message_expiration_disabled": _by_actor("{actor} disabled the message expiration"),
    "breakout_rooms_started": _by_actor("{actor} started breakout rooms"),
    "breakout_rooms_stopped": _by_actor("{actor} stopped breakout rooms"),
    # Extensions breakout-rooms-timer and breakout-rooms-single
    "breakout_timer_set": _by_actor("{actor} set the breakout rooms to close in {seconds} seconds"),
    "breakout_timer_cleared": _by_actor("{actor} cleared the breakout timer"),
    "breakout_timer_reached": ("The breakout timer ran out", "The breakout timer ran out", ""),
    "breakout_grace_started": (
        "{actor} is closing the breakout rooms in {seconds} seconds",
        "You are closing the breakout rooms in {seconds} seconds",
        "",
    ),
    "breakout_room_closed": _by_actor("{actor} closed this breakout room"),
    "breakout_room_opened": _by_actor("{actor} opened this breakout room again"),
    # Talk surface (issue 10)
    "message_edited": _by_actor("{actor} edited a message"),
    "message_deleted": ("Message deleted by {actor}", "Message deleted by you", ""),
    "history_cleared": _by_actor("{actor} cleared the history of the conversation"),
    "read_only": _by_actor("{actor} locked the conversation"),
    "read_only_off": _by_actor("{actor} unlocked the conversation"),
    "poll_voted": ("Someone voted on the poll {poll}", "You voted on the poll {poll}", ""),
    "poll_closed": _by_actor("{actor} ended the poll {poll}"),
    "avatar_set": _by_actor("{actor} set the conversation picture"),
    "avatar_removed": _by_actor("{actor} removed the conversation picture"),
    # Hidden system messages of reactions (issue 9): "reaction" shows its emoji (no entry here).
    "reaction_deleted": ("Reaction deleted by author", "Reaction deleted by author", ""),
    "reaction_revoked": _by_actor("{actor} deleted a reaction"),
}


# Talk records leaving as ``user_removed`` by the user themselves and renders it this way.
LEFT_TEXTS = ("{actor} left the conversation", "You left the conversation", "")


def system_message_text(message: ChatMessage, viewer_actor_id: str | None) -> str:
    texts = SYSTEM_MESSAGE_TEXTS.get(message.system_message)
    if texts is None:
        return message.message
    user_param = message.parameters.get("user") if isinstance(message.parameters, dict) else None
    if message.system_message == "user_removed" and user_param and user_param.get("id") == message.actor_id:
        texts = LEFT_TEXTS
    others, for_actor, for_user = texts
    if viewer_actor_id is not None and viewer_actor_id == message.actor_id and message.actor_type == "users":
        text = for_actor
    elif for_user and user_param and viewer_actor_id is not None and user_param.get("id") == viewer_actor_id:
        text = for_user
    else:
        text = others
    extra = message.parameters.get("text", {}) if isinstance(message.parameters, dict) else {}
    for key, value in extra.items():
        text = text.replace("{" + key + "}", str(value))
    return text


_SYSTEM = ChatMessage.Type.SYSTEM.value
_COMMENT_DELETED = ChatMessage.Type.COMMENT_DELETED.value


def message_payload(message: ChatMessage, *, room_token: str, viewer_actor_id: str | None) -> dict[str, Any]:
    is_system = message.message_type == _SYSTEM
    created_at, expires_at = message.created_at, message.expires_at
    payload = {
        "id": message.pk,
        "token": room_token,
        "actorType": message.actor_type,
        "actorId": message.actor_id,
        "actorDisplayName": message.actor_display_name,
        "timestamp": int(created_at.timestamp()) if created_at is not None else 0,
        "message": system_message_text(message, viewer_actor_id) if is_system else message.message,
        "messageParameters": _message_parameters(message),
        "systemMessage": message.system_message,
        "messageType": message.message_type,
        "isReplyable": not is_system,
        "referenceId": message.reference_id,
        "reactions": message.reactions or [],  # Talk surface (issue 10): PHP's empty array
        "expirationTimestamp": int(expires_at.timestamp()) if expires_at is not None else 0,
        "markdown": not is_system,
    }
    if message.last_edited_at is not None:  # Talk surface (issue 10)
        payload.update(edit_payload(message))
    if message.message_type == _COMMENT_DELETED:  # Talk surface (issue 10)
        payload.update(_deleted_message_overrides(message, viewer_actor_id=viewer_actor_id))
    return payload


def _message_parameters(message: ChatMessage) -> dict[str, Any] | list[Any]:
    """The message's rich-object parameters without the system message's ``text`` values; ``[]``
    (what the renderer makes of an empty map anyway) when there are none, so that a page of
    plain comments holds no empty map for the renderer to rewrite."""
    parameters = message.parameters
    if not parameters or not isinstance(parameters, dict):
        return []
    if "text" in parameters:
        parameters = {key: value for key, value in parameters.items() if key != "text"}
        return parameters or []
    return dict(parameters)


def edit_payload(message: ChatMessage) -> dict[str, Any]:
    """Talk's ``lastEdit*`` keys, on comments that were edited."""
    if message.last_edited_at is None:
        return {}
    return {
        "lastEditActorType": message.last_edit_actor_type,
        "lastEditActorId": message.last_edit_actor_id,
        "lastEditActorDisplayName": message.last_edit_actor_display_name,
        "lastEditTimestamp": timestamp(message.last_edited_at),
    }


def _deleted_message_overrides(message: ChatMessage, *, viewer_actor_id: str | None) -> dict[str, Any]:
    """A deleted comment: Talk's placeholder "Message deleted by {actor}" (``you`` for the one who
    deleted it), no text, no reactions, not replyable."""
    deleter = message.parameters.get("actor", {}) if isinstance(message.parameters, dict) else {}
    by_viewer = viewer_actor_id is not None and deleter.get("id") == viewer_actor_id
    return {
        "message": "Message deleted by you" if by_viewer else "Message deleted by {actor}",
        "messageParameters": {"actor": deleter} if deleter else {},
        "systemMessage": "",
        "isReplyable": False,
        "reactions": [],
        "markdown": False,
    }


_MODERATOR_TYPES = frozenset(int(value) for value in Attendee.MODERATOR_TYPES)
_MODERATOR_PERMISSION_TYPES = frozenset(int(value) for value in Attendee.MODERATOR_PERMISSION_TYPES)
_LOBBY_NON_MODERATORS = Conversation.Lobby.NON_MODERATORS.value
_ONE_TO_ONE = Conversation.Type.ONE_TO_ONE.value
_NOTE_TO_SELF = Conversation.Type.NOTE_TO_SELF.value


def room_payload(
    attendee: Attendee,
    *,
    last_message: ChatMessage | None = None,
    unread_messages: int = 0,
    last_common_read_message: int = 0,
    display_name: str | None = None,
) -> dict[str, Any]:
    """A conversation formatted for the caller whose attendee row in it is ``attendee``.

    ``attendee.room`` (and ``attendee.room.parent`` for breakout rooms) must be loaded.

    A room list formats fifty of these per request: the rules of ``effective_permissions`` and
    ``is_held_in_lobby`` are applied inline here (tests/conversations/test_presenters_render.py
    holds them to the functions), timestamps without a call each.
    """
    room = attendee.room
    participant_type = attendee.participant_type
    # effective_permissions(attendee, room), inline
    if participant_type in _MODERATOR_PERMISSION_TYPES:
        permissions = PERMISSIONS_MAX_DEFAULT
        held_in_lobby = False
    else:
        permissions = attendee.permissions or room.default_permissions or PERMISSIONS_DEFAULT_FOR_USERS
        # is_held_in_lobby(attendee, room), inline
        held_in_lobby = room.lobby_state == _LOBBY_NON_MODERATORS and not permissions & PERMISSION_LOBBY_IGNORE
    room_type = room.type
    token = room.token
    active_since = room.active_since
    last_activity, lobby_timer, ends_at = room.last_activity, room.lobby_timer, room.breakout_ends_at
    last_read = attendee.last_read_message
    payload: dict[str, Any] = {
        "id": room.pk,
        "token": token,
        "type": room_type,
        "name": room.name,
        "displayName": display_name if display_name is not None else room.name,
        "description": room.description,
        "objectType": room.object_type,
        "objectId": room.object_id,
        "participantType": participant_type,
        "attendeeId": attendee.pk,
        "attendeePin": attendee.pin,
        "actorType": attendee.actor_type,
        "actorId": attendee.actor_id,
        "permissions": permissions,
        "attendeePermissions": attendee.permissions,
        "callPermissions": room.call_permissions,
        "defaultPermissions": room.default_permissions,
        "participantFlags": 0,
        "readOnly": room.read_only,
        "listable": room.listable,
        "messageExpiration": room.message_expiration,
        "lastPing": 0,
        "sessionId": "0",
        "hasPassword": bool(room.password),
        "hasCall": active_since is not None and not held_in_lobby,
        "callFlag": room.call_flag,
        "callStartTime": int(active_since.timestamp()) if active_since is not None else 0,
        "callRecording": 0,
        "recordingConsent": room.recording_consent,
        "canStartCall": not held_in_lobby and bool(permissions & PERMISSION_START_CALL),
        "canDeleteConversation": room_type != _ONE_TO_ONE and participant_type in _MODERATOR_TYPES,
        "canLeaveConversation": room_type != _NOTE_TO_SELF,
        "canEnableSIP": False,
        "sipEnabled": room.sip_enabled,
        "lastActivity": int(last_activity.timestamp()) if last_activity is not None else 0,
        "isFavorite": attendee.favorite,
        "notificationLevel": attendee.notification_level,
        "notificationCalls": attendee.notification_calls,
        "lobbyState": room.lobby_state,
        "lobbyTimer": int(lobby_timer.timestamp()) if lobby_timer is not None else 0,
        "unreadMessages": 0 if held_in_lobby else unread_messages,
        "unreadMention": not held_in_lobby and attendee.last_mention_message > last_read,
        "unreadMentionDirect": not held_in_lobby and attendee.last_mention_direct > last_read,
        "lastReadMessage": last_read,
        "lastCommonReadMessage": last_common_read_message,
        "lastMessage": [],
        "avatarVersion": room.avatar_version,
        "isCustomAvatar": bool(room.avatar_emoji or room.avatar_mime),  # Talk surface (issue 10)
        "breakoutRoomMode": room.breakout_room_mode,
        "breakoutRoomStatus": room.breakout_room_status,
        "breakoutRoomEndsAt": int(ends_at.timestamp()) if ends_at is not None else 0,  # breakout-rooms-timer
        "mentionPermissions": room.mention_permissions,
        "isArchived": attendee.archived,
        "isImportant": False,
        "isSensitive": False,
        "liveTranscriptionLanguageId": "",
    }
    if last_message is not None and not held_in_lobby:
        payload["lastMessage"] = message_payload(last_message, room_token=token, viewer_actor_id=attendee.actor_id)
    return payload


def room_payload_limited(room: Conversation) -> dict[str, Any]:
    """Contract 3.3: a breakout room listed to someone who is not in it (free mode)."""
    return {
        "id": room.pk,
        "token": room.token,
        "type": room.type,
        "name": room.name,
        "displayName": room.name,
        "description": room.description if room.listable else "",
        "objectType": room.object_type,
        "objectId": room.object_id,
        "participantType": Attendee.ParticipantType.GUEST,
        "attendeeId": 0,
        "attendeePin": "",
        "actorType": "",
        "actorId": "",
        "permissions": PERMISSION_CUSTOM,
        "attendeePermissions": PERMISSION_CUSTOM,
        "callPermissions": PERMISSION_CUSTOM,
        "defaultPermissions": PERMISSION_CUSTOM,
        "participantFlags": 0,
        "readOnly": room.read_only,
        "listable": room.listable,
        "messageExpiration": 0,
        "lastPing": 0,
        "sessionId": "0",
        "hasPassword": bool(room.password),
        "hasCall": room.active_since is not None,
        "callFlag": room.call_flag,
        "callStartTime": timestamp(room.active_since),
        "callRecording": 0,
        "recordingConsent": room.recording_consent,
        "canStartCall": False,
        "canDeleteConversation": False,
        "canLeaveConversation": False,
        "canEnableSIP": False,
        "sipEnabled": room.sip_enabled,
        "lastActivity": timestamp(room.last_activity),
        "isFavorite": False,
        "notificationLevel": 3,
        "notificationCalls": 0,
        "lobbyState": room.lobby_state,
        "lobbyTimer": timestamp(room.lobby_timer),
        "unreadMessages": 0,
        "unreadMention": False,
        "unreadMentionDirect": False,
        "lastReadMessage": 0,
        "lastCommonReadMessage": 0,
        "lastMessage": [],
        "avatarVersion": room.avatar_version,
        "isCustomAvatar": bool(room.avatar_emoji or room.avatar_mime),  # Talk surface (issue 10)
        "breakoutRoomMode": room.breakout_room_mode,
        "breakoutRoomStatus": room.breakout_room_status,
        "breakoutRoomEndsAt": timestamp(room.breakout_ends_at),  # extension breakout-rooms-timer
        "mentionPermissions": room.mention_permissions,
        "isArchived": False,
        "isImportant": False,
        "isSensitive": False,
        "liveTranscriptionLanguageId": "",
    }


def participant_payload(attendee: Attendee, *, room: Conversation, include_status: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "roomToken": room.token,
        "inCall": 0,
        "lastPing": 0,
        "sessionIds": [],
        "participantType": attendee.participant_type,
        "attendeeId": attendee.pk,
        "actorType": attendee.actor_type,
        "actorId": attendee.actor_id,
        "displayName": attendee.display_name,
        "permissions": effective_permissions(attendee, room),
        "attendeePermissions": attendee.permissions,
        "attendeePin": attendee.pin,
        "phoneNumber": "",
        "callId": "",
    }
    if include_status:
        payload.update({"status": None, "statusIcon": None, "statusMessage": None, "statusClearAt": None})
    return payload


def participant_payloads(
    attendees: Iterable[Attendee], *, room: Conversation, include_status: bool = False
) -> list[dict[str, Any]]:
    return [participant_payload(attendee, room=room, include_status=include_status) for attendee in attendees]


def message_with_parent_payload(message: ChatMessage, *, attendee: Attendee) -> dict[str, Any]:
    """A chat message for the caller; a reply carries the message it answers as ``parent``."""
    return messages_with_parent_payloads([message], attendee=attendee)[0]


def messages_with_parent_payloads(messages: Iterable[ChatMessage], *, attendee: Attendee) -> list[dict[str, Any]]:
    """``message_with_parent_payload`` of each message of a chat page (the caller's token and
    actor read once for the page)."""
    token = attendee.room.token
    viewer = attendee.actor_id
    payloads = []
    for message in messages:
        payload = message_payload(message, room_token=token, viewer_actor_id=viewer)
        if message.reply_to_id is not None and message.reply_to is not None:
            payload["parent"] = message_payload(message.reply_to, room_token=token, viewer_actor_id=viewer)
        payloads.append(payload)
    return payloads


def caller_room_payload(caller_room: CallerRoom) -> dict[str, Any]:
    """A conversation as the selector ``caller_rooms`` read it, formatted for the caller."""
    return room_payload(
        caller_room.attendee,
        last_message=caller_room.last_message,
        unread_messages=caller_room.unread_messages,
        last_common_read_message=caller_room.last_common_read_message,
        display_name=caller_room.display_name,
    )


def room_payload_for_user(*, user: User, room: Conversation) -> dict[str, Any]:
    """One conversation formatted for ``user`` (who must be an attendee of it, else 404): one
    query."""
    return caller_room_payload(caller_room(user=user, room=room))


def breakout_tree_payloads_for_user(*, user: User, parent: Conversation) -> list[dict[str, Any]]:
    """The breakout rooms of ``parent`` that ``user`` is in, by ascending id, then the parent
    (the response shape of configure, start, stop, broadcast and reorganize)."""
    return [caller_room_payload(caller_room) for caller_room in breakout_tree_caller_rooms(user=user, parent=parent)]


# Talk surface (issue 10): reactions, mentions, polls, reminders


def reactions_payload(rows: Iterable[Reaction]) -> dict[str, list[dict[str, Any]]]:
    """Talk's reaction list of one message: each emoji (in the order it was first used) with the
    actors who reacted with it, oldest first."""
    result: dict[str, list[dict[str, Any]]] = JsonObject()  # "{}" when empty, as Talk sends it
    for row in rows:
        result.setdefault(row.reaction, []).append(
            {
                "actorType": row.actor_type,
                "actorId": row.actor_id,
                "actorDisplayName": row.actor_display_name,
                "timestamp": timestamp(row.created_at),
            }
        )
    return result


def reactions_attach(payloads: Iterable[dict[str, Any]], *, viewer: Attendee) -> None:
    """Add ``reactionsSelf`` (the viewer's emoji) to formatted messages and their ``parent``s that
    carry reactions: one query for the page, none when no message on it has reactions."""
    payloads = list(payloads)
    targets = payloads + [p["parent"] for p in payloads if isinstance(p.get("parent"), dict)]
    ids = {p["id"] for p in targets if p.get("reactions")}
    if not ids:
        return
    mine = reactions_of_viewer(message_ids=ids, viewer=viewer)
    for payload in targets:
        if payload["id"] in mine:
            payload["reactionsSelf"] = mine[payload["id"]]


def mention_suggestions(
    *, attendee: Attendee, search: str, limit: int, include_status: bool = False
) -> list[dict[str, Any]]:
    """Talk's mention autocomplete in one query: the room's other users whose id or display name
    contains ``search`` (exact matches first, then by display name), then the whole conversation
    (``all``, source ``calls``) when ``search`` matches it and the caller may mention everyone.
    This service keeps no user statuses, so ``includeStatus`` adds nothing."""
    room = attendee.room
    needle = search.strip()
    lowered = needle.lower()
    suggestions: list[dict[str, Any]] = [
        {"id": actor_id, "label": display_name or actor_id, "source": "users", "mentionId": actor_id}
        for actor_id, display_name in mention_matches(attendee=attendee, needle=needle, limit=limit)
    ]
    may_mention_all = room.mention_permissions == 0 or attendee.is_moderator
    if may_mention_all and (not needle or "all".startswith(lowered) or lowered in room.name.lower()):
        suggestions.append({"id": "all", "label": room.name, "source": "calls", "mentionId": "all"})
    return suggestions


def poll_payload(poll: Poll, *, viewer: Attendee) -> dict[str, Any]:
    """Talk's poll data for ``viewer``: at most two queries (the viewer's votes; who voted for
    what, only for a closed public poll), whatever the number of votes.

    The results (``votes``) of an open poll are only shown to those who voted on a public poll;
    ``numVoters`` also to the author and moderators, so that they know when to close it."""
    voted_self = poll_votes_of(poll=poll, viewer=viewer)
    public = poll.result_mode == Poll.ResultMode.PUBLIC
    closed = poll.status == Poll.Status.CLOSED
    data: dict[str, Any] = {
        "id": poll.pk,
        "question": poll.question,
        "options": poll.options,
        "votes": poll.votes,
        "actorType": poll.actor_type,
        "actorId": poll.actor_id,
        "actorDisplayName": poll.actor_display_name,
        "status": poll.status,
        "resultMode": poll.result_mode,
        "maxVotes": poll.max_votes,
        "numVoters": poll.num_voters,
    }
    if not (voted_self and public) and not closed:
        data["votes"] = []
        author = poll.actor_type == viewer.actor_type and poll.actor_id == viewer.actor_id
        if not (author or viewer.is_moderator):
            data["numVoters"] = 0
    elif public and closed:
        data["details"] = [
            {"actorType": actor_type, "actorId": actor_id, "actorDisplayName": name, "optionId": option}
            for actor_type, actor_id, name, option in poll_vote_details(poll=poll)
        ]
    data["votedSelf"] = voted_self
    return data


def reminder_payload(reminder: Reminder, *, user_id: str, token: str) -> dict[str, Any]:
    return {
        "userId": user_id,
        "token": token,
        "messageId": reminder.message_id,
        "timestamp": timestamp(reminder.remind_at),
    }


def upcoming_reminders_payload(*, user: User) -> list[dict[str, Any]]:
    """The user's next reminders with the text of their messages, soonest first: one query."""
    result = []
    for reminder in upcoming_reminders(user=user):
        message = reminder.message
        payload = message_payload(message, room_token=message.room.token, viewer_actor_id=user.username)
        result.append(
            {
                "reminderTimestamp": timestamp(reminder.remind_at),
                "roomToken": message.room.token,
                "messageId": message.pk,
                "actorType": payload["actorType"],
                "actorId": payload["actorId"],
                "actorDisplayName": payload["actorDisplayName"],
                "message": payload["message"],
                "messageParameters": payload["messageParameters"],
            }
        )
    return result
