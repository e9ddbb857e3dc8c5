"""The admin login form behind the brute-force guard."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from project.bruteforce import guard


class GuardedAdminAuthenticationForm(AdminAuthenticationForm):
    """Counts failed logins per client address with the guard's counters; once the address is
    blocked the form refuses every login, a right password included, until the window ends."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "too_many_attempts": "Too many failed login attempts from your address. Try again in %(seconds)s seconds.",
        "guard_unavailable": "Logging in is temporarily unavailable. Try again in %(seconds)s seconds.",
    }

    def clean(self) -> dict[str, Any]:
        if self.request is not None:
            refused = guard.refusal(self.request)
            if refused is not None:
                code = "too_many_attempts" if refused.status == 429 else "guard_unavailable"
                raise forms.ValidationError(
                    self.error_messages[code], code=code, params={"seconds": refused.retry_after}
                )
        try:
            return super().clean()
        except forms.ValidationError as error:
            if self.request is not None and error.code == "invalid_login":
                guard.record_failure(self.request)
            raise
