"""The server-level OCS routes (under /ocs/v2.php/ and /ocs/v1.php/, see ``project/urls.py``)."""

from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("cloud/capabilities", views.CapabilitiesView.as_view(), name="cloud-capabilities"),
    path("cloud/user", views.CloudUserView.as_view(), name="cloud-user"),
    path("core/getapppassword", views.AppPasswordView.as_view(), name="core-getapppassword"),
]
