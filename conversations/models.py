"""Conversations, their attendees and chat, in Nextcloud Talk's vocabulary.

A breakout room is a conversation whose ``parent`` is another conversation (Talk's
``objectType`` "room" with ``objectId`` = the parent's token). The constraints below are the
invariants the database keeps by itself; the ones it cannot express (for example "a breakout
room's lobby is on exactly when its parent is stopped") are kept by the services, which lock
the parent row before they read and write the tree.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
TOKEN_LENGTH = 10


def new_token() -> str:
    """A random conversation token from [a-z0-9]; the unique constraint makes it unique."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


class Conversation(models.Model):
    class Type(models.IntegerChoices):
        ONE_TO_ONE = 1, "one-to-one"
        GROUP = 2, "group"
        PUBLIC = 3, "public"
        CHANGELOG = 4, "changelog"
        FORMER_ONE_TO_ONE = 5, "former one-to-one"
        NOTE_TO_SELF = 6, "note to self"

    class BreakoutMode(models.IntegerChoices):
        NOT_CONFIGURED = 0, "not configured"
        AUTOMATIC = 1, "automatic"
        MANUAL = 2, "manual"
        FREE = 3, "free"

    class BreakoutStatus(models.IntegerChoices):
        STOPPED = 0, "stopped / no request"
        STARTED = 1, "started"
        ASSISTANCE_REQUESTED = 2, "assistance requested"

    class Lobby(models.IntegerChoices):
        NONE = 0, "no lobby"
        NON_MODERATORS = 1, "lobby for non-moderators"

    # Talk's coded settings (the values of its API, named for the admin's select boxes).
    class ReadOnly(models.IntegerChoices):
        READ_WRITE = 0, "read-write"
        READ_ONLY = 1, "read-only (locked)"

    class Listable(models.IntegerChoices):
        NONE = 0, "participants only"
        USERS = 1, "regular users"
        ALL = 2, "everyone (guest app users too)"

    class Sip(models.IntegerChoices):
        DISABLED = 0, "disabled"
        ENABLED = 1, "enabled"
        ENABLED_NO_PIN = 2, "enabled without PIN"

    class RecordingConsent(models.IntegerChoices):
        NOT_REQUIRED = 0, "not required"
        REQUIRED = 1, "required"
        OPTIONAL = 2, "optional (moderators decide per call)"

    class MentionPermissions(models.IntegerChoices):
        EVERYONE = 0, "everyone may mention @all"
        MODERATORS = 1, "only moderators may mention @all"

    token = models.CharField(max_length=32, unique=True, default=new_token)
    type = models.PositiveSmallIntegerField(choices=Type.choices, default=Type.GROUP)
    name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="breakout_rooms",
        help_text="Set for breakout rooms: the conversation that hosts them.",
    )
    read_only = models.PositiveSmallIntegerField(choices=ReadOnly.choices, default=ReadOnly.READ_WRITE)
    listable = models.PositiveSmallIntegerField(choices=Listable.choices, default=Listable.NONE)
    lobby_state = models.PositiveSmallIntegerField(choices=Lobby.choices, default=Lobby.NONE)
    lobby_timer = models.DateTimeField(null=True, blank=True)
    message_expiration = models.PositiveIntegerField(default=0)
    password = models.CharField(max_length=128, blank=True, help_text="Hashed; empty means none.")
    breakout_room_mode = models.PositiveSmallIntegerField(
        choices=BreakoutMode.choices, default=BreakoutMode.NOT_CONFIGURED
    )
    breakout_room_status = models.PositiveSmallIntegerField(
        choices=BreakoutStatus.choices, default=BreakoutStatus.STOPPED
    )
    breakout_ends_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="When the started breakout rooms close by themselves (on the parent and its rooms)",
    )
    default_permissions = models.PositiveIntegerField(default=0)
    call_permissions = models.PositiveIntegerField(default=0)
    sip_enabled = models.PositiveSmallIntegerField(choices=Sip.choices, default=Sip.DISABLED)
    recording_consent = models.PositiveSmallIntegerField(
        choices=RecordingConsent.choices, default=RecordingConsent.NOT_REQUIRED
    )
    mention_permissions = models.PositiveSmallIntegerField(
        choices=MentionPermissions.choices, default=MentionPermissions.EVERYONE
    )
    avatar_version = models.CharField(max_length=32, default="1", blank=True)
    # --- Talk surface (issue 10): an emoji avatar (the emoji and its background, RRGGBB) ---
    avatar_emoji = models.CharField(max_length=64, blank=True)
    avatar_color = models.CharField(max_length=6, blank=True)
    # An uploaded picture (its bytes in ConversationAvatar): "image/png" or "image/jpeg".
    avatar_mime = models.CharField(max_length=16, blank=True)
    call_flag = models.PositiveSmallIntegerField(default=0)
    active_since = models.DateTimeField(null=True, blank=True)
    last_activity = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(type__gte=1, type__lte=6), name="conversation_type_valid"),
            models.CheckConstraint(condition=Q(breakout_room_mode__lte=3), name="conversation_breakout_mode_valid"),
            models.CheckConstraint(condition=Q(lobby_state__lte=1), name="conversation_lobby_state_valid"),
            # A breakout room never hosts breakout rooms itself (one nesting level) and only
            # carries the assistance flag; a parent's status is started or stopped.
            models.CheckConstraint(
                condition=Q(parent__isnull=True, breakout_room_status__in=[0, 1])
                | Q(parent__isnull=False, breakout_room_mode=0, breakout_room_status__in=[0, 2]),
                name="conversation_breakout_tree_valid",
            ),
            # One conversation per pair of users: a one-to-one room's name is the sorted pair of
            # user ids (as in Talk), so concurrent "create" requests cannot make two.
            models.UniqueConstraint(fields=["name"], condition=Q(type=1), name="conversation_one_to_one_unique_pair"),
            # Only a configured parent may be started.
            models.CheckConstraint(
                condition=~Q(breakout_room_mode=0, breakout_room_status=1),
                name="conversation_started_only_when_configured",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.token} ({self.token})"

    @property
    def is_breakout_room(self) -> bool:
        return self.parent_id is not None

    @property
    def object_type(self) -> str:
        return "room" if self.parent_id is not None else ""

    @property
    def object_id(self) -> str:
        """Talk's ``objectId``: the parent's token for a breakout room (load ``parent`` with
        select_related where many rooms are formatted)."""
        parent = self.parent
        return parent.token if parent is not None else ""


class Attendee(models.Model):
    class ParticipantType(models.IntegerChoices):
        OWNER = 1, "owner"
        MODERATOR = 2, "moderator"
        USER = 3, "user"
        GUEST = 4, "guest"
        USER_SELF_JOINED = 5, "user following a public link"
        GUEST_MODERATOR = 6, "guest with moderator permissions"

    MODERATOR_TYPES = (ParticipantType.OWNER, ParticipantType.MODERATOR)
    MODERATOR_PERMISSION_TYPES = (
        ParticipantType.OWNER,
        ParticipantType.MODERATOR,
        ParticipantType.GUEST_MODERATOR,
    )
    STUDENT_TYPES = (ParticipantType.USER, ParticipantType.USER_SELF_JOINED)

    class NotificationLevel(models.IntegerChoices):
        DEFAULT = 0, "default"
        ALWAYS = 1, "always"
        MENTION = 2, "on mention"
        NEVER = 3, "never"

    class NotificationCalls(models.IntegerChoices):
        OFF = 0, "off"
        ON = 1, "on"

    ACTOR_USERS = "users"
    ACTOR_GROUPS = "groups"
    ACTOR_GUESTS = "guests"

    room = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="attendees")
    actor_type = models.CharField(max_length=32, default=ACTOR_USERS)
    actor_id = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attendances",
        help_text="The user behind a 'users' actor.",
    )
    display_name = models.CharField(max_length=255, blank=True)
    participant_type = models.PositiveSmallIntegerField(choices=ParticipantType.choices)
    permissions = models.PositiveIntegerField(default=0)
    pin = models.CharField(max_length=32, blank=True)
    last_read_message = models.BigIntegerField(default=0)
    last_mention_message = models.BigIntegerField(default=0)
    last_mention_direct = models.BigIntegerField(default=0)
    notification_level = models.PositiveSmallIntegerField(
        choices=NotificationLevel.choices, default=NotificationLevel.DEFAULT
    )
    notification_calls = models.PositiveSmallIntegerField(
        choices=NotificationCalls.choices, default=NotificationCalls.ON
    )
    favorite = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)
    # Denormalised copy of room.parent, written once when the row is created (a room never
    # changes parent), so that the database itself can guarantee that a student sits in at most
    # one breakout room of a parent: see the partial unique constraint below.
    breakout_parent = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="+", editable=False
    )
    assistance_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "actor_type", "actor_id"], name="attendee_unique_actor_per_room"),
            models.UniqueConstraint(
                fields=["breakout_parent", "actor_type", "actor_id"],
                condition=Q(breakout_parent__isnull=False, participant_type__in=[3, 5]),
                name="attendee_one_breakout_room_per_student",
            ),
            models.CheckConstraint(
                condition=Q(participant_type__gte=1, participant_type__lte=6), name="attendee_type_valid"
            ),
            models.CheckConstraint(
                condition=~Q(actor_type="users") | Q(user__isnull=False), name="attendee_users_have_user"
            ),
        ]
        indexes = [models.Index(fields=["user", "room"], name="attendee_user_room_idx")]

    def __str__(self) -> str:
        return f"{self.actor_type}/{self.actor_id} in {self.room_id} ({self.get_participant_type_display()})"

    @property
    def is_moderator(self) -> bool:
        """Talk's hasModeratorPermissions(): owners, moderators and guest moderators."""
        return self.participant_type in self.MODERATOR_PERMISSION_TYPES


class ChatMessage(models.Model):
    class Type(models.TextChoices):
        COMMENT = "comment", "comment"
        SYSTEM = "system", "system"
        COMMENT_DELETED = "comment_deleted", "deleted comment"  # Talk surface (issue 10)

    room = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    actor_type = models.CharField(max_length=32, default=Attendee.ACTOR_USERS)
    actor_id = models.CharField(max_length=255)
    actor_display_name = models.CharField(max_length=255, blank=True)
    message_type = models.CharField(max_length=16, choices=Type.choices, default=Type.COMMENT)
    message = models.TextField(blank=True)
    system_message = models.CharField(max_length=64, blank=True)
    # Rich-object parameters (Talk's messageParameters), resolved when the message is written so
    # that reading a page of messages needs no further queries.
    parameters = models.JSONField(default=dict, blank=True)
    reference_id = models.CharField(max_length=64, blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # --- Talk surface (issue 10): the last edit of a comment (Talk's lastEdit* keys) ---
    last_edit_actor_type = models.CharField(max_length=32, blank=True)
    last_edit_actor_id = models.CharField(max_length=255, blank=True)
    last_edit_actor_display_name = models.CharField(max_length=255, blank=True)
    last_edited_at = models.DateTimeField(null=True, blank=True)
    # --- Talk surface (issue 10): emoji -> count, kept with the reaction rows (as Talk's comments
    # table does) so that a chat page needs no query for reactions unless it has some ---
    reactions = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["room", "id"], name="chatmessage_room_id_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.system_message or self.message[:40]}"


# --- Talk surface (issue 10) ------------------------------------------------------------------


class Reaction(models.Model):
    """One actor's emoji reaction to one chat comment (Talk's reactions API)."""

    # No database constraint and no ORM cascade: rooms and their chat are also deleted by raw
    # DELETEs (breakout rooms, cleared history) that must stay one statement each; the services
    # that delete messages or conversations delete their reactions first (for conversations:
    # ``conversations.services.lifecycle.conversation_leftovers_delete``, also their polls and
    # reminders), and reactions are only ever read by the id of a live message.
    message = models.ForeignKey(
        ChatMessage, on_delete=models.DO_NOTHING, db_constraint=False, related_name="reaction_rows"
    )
    actor_type = models.CharField(max_length=32, default=Attendee.ACTOR_USERS)
    actor_id = models.CharField(max_length=255)
    actor_display_name = models.CharField(max_length=255, blank=True)
    reaction = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "actor_type", "actor_id", "reaction"], name="reaction_unique_per_actor"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reaction} by {self.actor_type}/{self.actor_id} on #{self.message_id}"


class Poll(models.Model):
    """A poll shared into a conversation's chat (Talk's poll API). ``votes`` and ``num_voters`` are
    recounted under the tree lock at every vote, so showing a poll costs no aggregate query."""

    class Status(models.IntegerChoices):
        OPEN = 0, "open"
        CLOSED = 1, "closed"

    class ResultMode(models.IntegerChoices):
        PUBLIC = 0, "public"
        HIDDEN = 1, "hidden"

    # No database constraint and no ORM cascade, like Reaction.message: rooms are also deleted by
    # raw DELETEs; polls are only ever read through the id of a live room.
    room = models.ForeignKey(Conversation, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    question = models.TextField()
    options = models.JSONField(default=list)
    votes = models.JSONField(default=dict, blank=True)
    num_voters = models.PositiveIntegerField(default=0)
    actor_type = models.CharField(max_length=32, default=Attendee.ACTOR_USERS)
    actor_id = models.CharField(max_length=255)
    actor_display_name = models.CharField(max_length=255, blank=True)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.OPEN)
    result_mode = models.PositiveSmallIntegerField(choices=ResultMode.choices, default=ResultMode.PUBLIC)
    max_votes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__lte=1), name="poll_status_valid"),
            models.CheckConstraint(condition=Q(result_mode__lte=1), name="poll_result_mode_valid"),
        ]

    def __str__(self) -> str:
        return f"Poll #{self.pk}: {self.question[:40]}"


class PollVote(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="vote_rows")
    actor_type = models.CharField(max_length=32, default=Attendee.ACTOR_USERS)
    actor_id = models.CharField(max_length=255)
    actor_display_name = models.CharField(max_length=255, blank=True)
    option_id = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "actor_type", "actor_id", "option_id"], name="poll_vote_unique")
        ]

    def __str__(self) -> str:
        return f"{self.actor_type}/{self.actor_id} -> option {self.option_id} of poll {self.poll_id}"


class Reminder(models.Model):
    """A user's "remind me later" of one chat message (Talk's reminder API)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Like Reaction.message: no database constraint, no ORM cascade (raw deletes of rooms and
    # chats); reminders are only read joined to a live message of a room the user is in.
    message = models.ForeignKey(ChatMessage, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    remind_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["remind_at", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="reminder_one_per_user_message")]

    def __str__(self) -> str:
        return f"{self.user_id} on #{self.message_id} at {self.remind_at:%Y-%m-%d %H:%M}"


class ConversationAvatar(models.Model):
    """The uploaded picture of a conversation (Talk's ``POST /room/{token}/avatar``), PNG or JPEG,
    at most 512 pixels wide, kept in the database so that every deployment (SQLite or
    PostgreSQL, one host or several) serves it without shared file storage. Apart from the
    conversation row so that listing conversations never loads pictures."""

    # Deleted with its conversation: the ORM cascade of every ``delete()`` of conversations (a
    # parent takes its breakout rooms' pictures too); the raw DELETE of breakout rooms
    # (``breakout.services.lifecycle._breakout_rooms_delete``) deletes their pictures first. No
    # database constraint, so that raw DELETE stays valid in any order within its transaction.
    room = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, db_constraint=False, primary_key=True, related_name="+"
    )
    image = models.BinaryField()
    mime_type = models.CharField(max_length=16)

    def __str__(self) -> str:
        return f"picture of #{self.room_id} ({self.mime_type})"
