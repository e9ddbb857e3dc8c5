"""Talk's bot routes (``bots-v1``), under /ocs/v2.php/ and /ocs/v1.php/."""

from __future__ import annotations

from django.urls import path

from bots import views

BOT = "apps/spreed/api/v1/bot/<token:token>"

urlpatterns = [
    path("apps/spreed/api/v1/bot/admin", views.BotAdminListView.as_view(), name="bot-admin-list"),  # before <token>
    path(BOT, views.BotListView.as_view(), name="bot-list"),
    path(f"{BOT}/message", views.BotMessageView.as_view(), name="bot-message"),
    path(f"{BOT}/reaction/<int:message_id>", views.BotReactionView.as_view(), name="bot-reaction"),
    path(f"{BOT}/<int:bot_id>", views.BotSetupView.as_view(), name="bot-setup"),
]
