"""Bad configuration stops the service at start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
)


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter (not under pytest, so TESTING is false)."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    base.update({"DJANGO_SETTINGS_MODULE": "project.settings", "DJANGO_SECRET_KEY": "k" * 50})
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_ALLOWED_HOSTS": " , "}, "DJANGO_ALLOWED_HOSTS"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DATABASE_CONN_MAX_AGE": "-1"}, "DATABASE_CONN_MAX_AGE"),
        ({"BRUTEFORCE_PROTECTION": "perhaps"}, "BRUTEFORCE_PROTECTION"),
        ({"BRUTEFORCE_MAX_ATTEMPTS": "ten"}, "BRUTEFORCE_MAX_ATTEMPTS"),
        ({"BRUTEFORCE_WINDOW_SECONDS": "0"}, "BRUTEFORCE_WINDOW_SECONDS"),
        ({"CREDENTIAL_CACHE_SECONDS": "1.5"}, "CREDENTIAL_CACHE_SECONDS"),
        ({"USE_X_FORWARDED_FOR": "2"}, "USE_X_FORWARDED_FOR"),
        ({"USE_X_FORWARDED_FOR": "1"}, "TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "yes"}, "TRUSTED_PROXIES"),
        ({"BRUTEFORCE_FAIL_CLOSED": "maybe"}, "BRUTEFORCE_FAIL_CLOSED"),
        ({"DJANGO_SECURE_HSTS_SECONDS": "a year"}, "DJANGO_SECURE_HSTS_SECONDS"),
        ({"DJANGO_SECURE_SSL_REDIRECT": "sure"}, "DJANGO_SECURE_SSL_REDIRECT"),
        ({"DJANGO_CSRF_TRUSTED_ORIGINS": ","}, "DJANGO_CSRF_TRUSTED_ORIGINS"),
        ({"MAX_REQUEST_BODY_BYTES": "12"}, "MAX_REQUEST_BODY_BYTES"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
    ],
)
def test_a_bad_value_fails_at_start_up_naming_the_variable(env: dict[str, str], named: str) -> None:
    result = load_settings(**env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.strip().splitlines()[-1]


def test_good_values_load() -> None:
    result = load_settings(DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="example.org", DATABASE_URL="sqlite:////tmp/x.db")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "project.sqlite"


def test_postgres_urls_select_psycopg() -> None:
    result = load_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/whatever")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.postgresql"


def test_redis_url_selects_the_shared_redis_cache() -> None:
    probe = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND'], settings.CACHES['bruteforce']['BACKEND'])"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "project.settings", "DJANGO_SECRET_KEY": "k" * 50})
    env["REDIS_URL"] = "redis://127.0.0.1:6379/0"

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    # The credential cache degrades to no cache when Redis is down; the guard's alias raises, so
    # that the guard can fail open or closed as configured.
    assert result.stdout.split() == ["project.cache.FailSoftRedisCache", "project.cache.BreakerRedisCache"]


def test_debug_without_a_secret_key_uses_a_development_key() -> None:
    assert load_settings(DJANGO_SECRET_KEY="", DJANGO_DEBUG="1").returncode == 0


def test_sqlite_is_configured_for_concurrent_writers(settings: object) -> None:
    from project.settings import _database_from_url

    config = _database_from_url("sqlite:////tmp/concurrency.db")

    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["OPTIONS"]["timeout"] >= 5
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
