"""Django's four password validators are configured: validate_password (which the admin's
forms and adduser use) refuses weak passwords and accepts a decent one."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import get_default_password_validators, validate_password
from django.core.exceptions import ValidationError

User = get_user_model()


def test_the_usual_four_validators_are_configured() -> None:
    assert [type(validator).__name__ for validator in get_default_password_validators()] == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("secret", "password_too_short"),
        ("password123", "password_too_common"),
        ("83920174651", "password_entirely_numeric"),
        ("margaret.hamilton", "password_too_similar"),
    ],
)
def test_a_weak_password_is_refused(password: str, code: str) -> None:
    user = User(username="margaret.hamilton", display_name="Margaret Hamilton")

    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)

    assert code in [error.code for error in refused.value.error_list]


def test_a_decent_password_passes() -> None:
    user = User(username="margaret.hamilton", display_name="Margaret Hamilton")

    assert validate_password("correct horse battery staple", user) is None
