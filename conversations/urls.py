from __future__ import annotations

from django.urls import path

from conversations import avatar_views, chat_extra_views, live_views, room_extra_views, views

ROOM = "apps/spreed/api/v4/room/<token:token>"

urlpatterns = [
    path("apps/spreed/api/v4/room", views.RoomViewSet.as_view({"get": "list", "post": "create"}), name="room-list"),
    path(
        ROOM,
        views.RoomViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"}),
        name="room-detail",
    ),
    path(f"{ROOM}/description", views.RoomDescriptionView.as_view(), name="room-description"),
    path(f"{ROOM}/participants", views.ParticipantsView.as_view(), name="room-participants"),
    path(f"{ROOM}/participants/self", views.ParticipantSelfView.as_view(), name="room-participant-self"),
    path(f"{ROOM}/attendees", views.AttendeesView.as_view(), name="room-attendees"),
    path(f"{ROOM}/moderators", views.ModeratorsView.as_view(), name="room-moderators"),
    path(f"{ROOM}/webinar/lobby", views.LobbyView.as_view(), name="room-lobby"),
    path(f"{ROOM}/listable", views.ListableView.as_view(), name="room-listable"),
    path(f"{ROOM}/public", views.PublicView.as_view(), name="room-public"),
    path(f"{ROOM}/password", views.PasswordView.as_view(), name="room-password"),
    path(f"{ROOM}/message-expiration", views.MessageExpirationView.as_view(), name="room-message-expiration"),
    path("apps/spreed/api/v1/chat/<token:token>", live_views.chat, name="chat"),  # long polling (issue 9)
]

# Talk surface (issue 10)
CHAT = "apps/spreed/api/v1/chat/<token:token>"
urlpatterns += [
    path(f"{CHAT}/read", chat_extra_views.ReadMarkerView.as_view(), name="chat-read"),
    path(f"{CHAT}/mentions", chat_extra_views.MentionsView.as_view(), name="chat-mentions"),
    path(f"{CHAT}/<int:message_id>", chat_extra_views.ChatMessageView.as_view(), name="chat-message"),
    path(
        "apps/spreed/api/v1/reaction/<token:token>/<int:message_id>",
        chat_extra_views.ReactionView.as_view(),
        name="reaction",
    ),
    path(f"{ROOM}/favorite", room_extra_views.FavoriteView.as_view(), name="room-favorite"),
    path(f"{ROOM}/notify", room_extra_views.NotificationLevelView.as_view(), name="room-notify"),
    path(f"{ROOM}/notify-calls", room_extra_views.NotificationLevelView.as_view(calls=True), name="room-notify-calls"),
    path(f"{ROOM}/read-only", room_extra_views.ReadOnlyView.as_view(), name="room-read-only"),
    path(f"{ROOM}/permissions/<str:mode>", room_extra_views.PermissionsView.as_view(), name="room-permissions"),
    path(
        f"{ROOM}/attendees/permissions",
        room_extra_views.AttendeePermissionsView.as_view(),
        name="room-attendee-permissions",
    ),
    path("apps/spreed/api/v1/poll/<token:token>", chat_extra_views.PollCreateView.as_view(), name="poll-create"),
    path("apps/spreed/api/v1/poll/<token:token>/<int:poll_id>", chat_extra_views.PollView.as_view(), name="poll"),
    path(f"{CHAT}/<int:message_id>/reminder", chat_extra_views.ReminderView.as_view(), name="chat-reminder"),
    path(
        "apps/spreed/api/v1/chat/upcoming-reminders",
        chat_extra_views.UpcomingRemindersView.as_view(),
        name="chat-upcoming-reminders",
    ),
    path("apps/spreed/api/v1/room/<token:token>/avatar", avatar_views.AvatarView.as_view(), name="room-avatar"),
    path(
        "apps/spreed/api/v1/room/<token:token>/avatar/dark",
        avatar_views.AvatarDarkView.as_view(),
        name="room-avatar-dark",
    ),
    path(
        "apps/spreed/api/v1/room/<token:token>/avatar/emoji",
        room_extra_views.AvatarEmojiView.as_view(),
        name="room-avatar-emoji",
    ),
]
