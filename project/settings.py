"""Settings, read from the environment in one place (see README "Configuration")."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from project.env import env_bool, env_int, env_list, env_str
from project.logs import LOG_FORMATS, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-only-for-debug-and-tests"
    else:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (or DJANGO_DEBUG=1 for a development server)")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "accounts",
    "project.bruteforce",
    "django_tasks",
    "django_tasks_db",
    "live",
    "conversations",
    "bots",
    "breakout",
]

MIDDLEWARE = [
    # First: a switch waiting for its lane holds no thread yet (project/admission.py).
    "project.admission.SwitchLaneMiddleware",
    "project.ocs.middleware.CharsetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "project.ocs.middleware.OCSMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if not TESTING:
    # Serves the admin's static files under gunicorn (after collectstatic), no web server needed.
    MIDDLEWARE.insert(3, "project.static.StaticFilesMiddleware")  # WhiteNoise, async-capable

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# Connections per process (PostgreSQL; 0: one connection per request, opened and closed with it).
DATABASE_POOL_SIZE_DEFAULT = 10


def _database_from_url(url: str) -> dict[str, Any]:
    conn_max_age = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
    try:
        config: dict[str, Any] = dict(
            # Served by ASGI (project/asgi.py): each request's sync code runs in a thread of its own,
            # so a persistent connection would stay with a thread nobody reuses; 0 closes it at the
            # end of the request (on PostgreSQL: hands it back to the process's pool, below).
            dj_database_url.parse(url, conn_max_age=conn_max_age)
        )
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        config["ENGINE"] = "project.sqlite"
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # Several gunicorn workers write at once: WAL lets readers and one writer overlap,
            # IMMEDIATE takes the write lock at BEGIN (no deadlock-prone lock upgrades), and the
            # busy timeout makes a writer wait for the lock instead of failing at once.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    elif engine == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        # A kept or pooled connection is checked before a request reuses it, so the first request
        # after a PostgreSQL restart reconnects instead of failing.
        config["CONN_HEALTH_CHECKS"] = True
        # Connections kept per thread (DATABASE_CONN_MAX_AGE, for WSGI) and a pool per process
        # exclude each other: the pool is the default unless connections are kept.
        pool_size = env_int("DATABASE_POOL_SIZE", 0 if conn_max_age else DATABASE_POOL_SIZE_DEFAULT, minimum=0)
        if pool_size and conn_max_age:
            raise ImproperlyConfigured(
                "DATABASE_POOL_SIZE pools connections per process, DATABASE_CONN_MAX_AGE keeps them per thread: "
                "set one of them to 0"
            )
        if pool_size and not TESTING:
            # Each process holds at most ``pool_size`` connections, whatever the number of requests
            # in flight (one thread each under ASGI): a request's first query takes a connection,
            # the end of the request gives it back. Beyond that requests wait for one (503 after
            # DATABASE_POOL_TIMEOUT_SECONDS) instead of opening more than PostgreSQL's
            # max_connections, and no request pays for a new connection.
            config["OPTIONS"]["pool"] = {
                "min_size": min(2, pool_size),
                "max_size": pool_size,
                "timeout": env_int("DATABASE_POOL_TIMEOUT_SECONDS", 5, minimum=1),
            }
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL must point at SQLite (sqlite:///path) or PostgreSQL (postgres://...), got engine {engine!r}"
        )
    return config


DATABASES = {"default": _database_from_url(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
# Switch requests of one process in the sync tier at once (project/admission.py); the others wait
# in the event loop. Below the pool's size, so other requests always find a connection.
SWITCH_CONCURRENCY = env_int("SWITCH_CONCURRENCY", 1, minimum=0)
_pool = DATABASES["default"]["OPTIONS"].get("pool")
if _pool and _pool["max_size"] <= SWITCH_CONCURRENCY:
    raise ImproperlyConfigured(
        f"SWITCH_CONCURRENCY must be below DATABASE_POOL_SIZE ({_pool['max_size']}), got {SWITCH_CONCURRENCY}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# REDIS_URL shares the verified-credential cache (default alias) and the brute-force counters
# (alias "bruteforce") between all workers. Without it the credential cache is per process and
# the counters live in the database (project.bruteforce), shared all the same. Redis is an
# accelerator: the default alias degrades to "no cache" when Redis is down, the guard fails
# open or closed (BRUTEFORCE_FAIL_CLOSED), and short socket timeouts keep a dead Redis cheap.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must start with redis://, rediss:// or unix://, got {REDIS_URL!r}")
REDIS_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
CACHES: dict[str, dict[str, Any]] = (
    {
        "default": {"BACKEND": "project.cache.FailSoftRedisCache", "LOCATION": REDIS_URL, "OPTIONS": REDIS_OPTIONS},
        "bruteforce": {
            "BACKEND": "project.cache.BreakerRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_OPTIONS,
        },
    }
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

# Django's usual four: passwords set through validate_password (the admin's forms, adduser)
# must not be too similar to the user's name, too short, too common or all digits.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if TESTING
    else ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "admin:login"

# HTTPS (see README "Serving in production"): all off by default so a development server works
# over plain HTTP; the production recipe turns them on and `check --deploy` passes.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", False)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Talk-specific behaviour switches.
BRUTEFORCE_PROTECTION = env_bool("BRUTEFORCE_PROTECTION", True)
BRUTEFORCE_MAX_ATTEMPTS = env_int("BRUTEFORCE_MAX_ATTEMPTS", 10, minimum=1)
BRUTEFORCE_WINDOW_SECONDS = env_int("BRUTEFORCE_WINDOW_SECONDS", 300, minimum=1)
# When the counters cannot be read (Redis or the database down): 0 lets requests through, 1
# answers 503. Either way a warning is logged.
BRUTEFORCE_FAIL_CLOSED = env_bool("BRUTEFORCE_FAIL_CLOSED", False)
CREDENTIAL_CACHE_SECONDS = env_int("CREDENTIAL_CACHE_SECONDS", 300, minimum=0)
# The number of reverse proxies in front of the service: the client address is the
# X-Forwarded-For entry that many from the right (0: REMOTE_ADDR, the header is ignored).
if "USE_X_FORWARDED_FOR" in os.environ:
    raise ImproperlyConfigured(
        "USE_X_FORWARDED_FOR was replaced by TRUSTED_PROXIES (the number of reverse proxies in front, e.g. 1)"
    )
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0, minimum=0)
# Behind TLS-terminating proxies a request is HTTPS when the proxy says so (X-Forwarded-Proto).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
# Larger request bodies are refused with 413 before they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024, minimum=1024)
CHAT_MAX_LENGTH = 32000
# Conversation pictures (POST /room/{token}/avatar) may be larger than other bodies; Talk's limit.
AVATAR_MAX_UPLOAD_BYTES = env_int("AVATAR_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["project.ocs.renderers.OCSJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "project.ocs.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.OCSBasicAuthentication",
        "accounts.authentication.OCSSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "project.ocs.exceptions.ocs_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "project.ocs.renderers.OCSContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "project.ocs.schema.OCSAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Breakout rooms service (Nextcloud Talk compatible)",
    "DESCRIPTION": "Talk-compatible conversation, chat and breakout-room API in the OCS envelope.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every OCS route also answers under /ocs/v1.php/ (OCS v1 status semantics); documented once.
    "PREPROCESSING_HOOKS": ["project.ocs.schema.drop_ocs_v1_aliases"],
    "GET_LIB_DOC_EXCLUDES": "project.ocs.schema.lib_doc_excludes",
    # The schema and its viewers are public documentation, not OCS endpoints: they authenticate
    # nobody, so an operator's admin session (which carries no OCS-APIRequest header) sees them
    # too. Swagger UI and ReDoc come from drf-spectacular-sidecar's static files (no CDN).
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Operations: request ids and structured logs, health and readiness, Prometheus metrics
# (README "Operating the service").
INSTALLED_APPS += ["drf_spectacular_sidecar", "django_prometheus"]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "project.logs.RequestIdMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

LOG_FORMAT = env_str("LOG_FORMAT", "console").strip().lower()
if LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {LOG_FORMAT!r}")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env_str("DJANGO_LOG_LEVEL", "WARNING"))

# Checks of /readyz, in order; each returns None or the reason it fails (project/health.py).
READINESS_CHECKS = ["project.health.database_reachable", "project.health.migrations_applied"]
# ... and a background worker (manage.py live_worker, heartbeat every --housekeeping-interval
# seconds) heard from within LIVE_WORKER_STALE_SECONDS, unless READINESS_WORKER=false (a
# deployment that runs no worker).
READINESS_WORKER = env_bool("READINESS_WORKER", True)
LIVE_WORKER_STALE_SECONDS = env_int("LIVE_WORKER_STALE_SECONDS", 60, minimum=1)
if READINESS_WORKER:
    READINESS_CHECKS.append("live.health.worker_heard_from")

# /metrics answers 404 unless a bearer token or allowed client networks are configured.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
try:
    METRICS_ALLOWED_IPS = [ipaddress.ip_network(item, strict=False) for item in env_list("METRICS_ALLOWED_IPS", [])]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS must be IP addresses or networks: {exc}") from None

# Live updates (README "Live updates"): the outbox keeps events this long for Last-Event-ID
# resumes; the SQLite fan-out polls the outbox this often; a process's listener (LISTEN
# connection, Redis subscription or poll loop) stops this long after its last waiter left.
EVENT_RETENTION_HOURS = env_int("EVENT_RETENTION_HOURS", 24, minimum=1)
LIVE_POLL_SECONDS = env_int("LIVE_POLL_MILLISECONDS", 300, minimum=10) / 1000
LIVE_LISTENER_LINGER_SECONDS = env_int("LIVE_LISTENER_LINGER_SECONDS", 60, minimum=0)
LIVE_HEARTBEAT_SECONDS = env_int("LIVE_HEARTBEAT_SECONDS", 15, minimum=1)

# Background jobs (django-tasks with its database backend): `manage.py live_worker`. A job
# claimed by a worker that died (SIGKILL, lost host) is ready again after TASKS_CLAIM_TIMEOUT_SECONDS;
# the retention job runs every EVENT_PRUNE_INTERVAL_SECONDS.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TASKS_CLAIM_TIMEOUT_SECONDS = env_int("TASKS_CLAIM_TIMEOUT_SECONDS", 600, minimum=1)
EVENT_PRUNE_INTERVAL_SECONDS = env_int("EVENT_PRUNE_INTERVAL_SECONDS", 3600, minimum=1)

# Breakout round timers (extension breakout-rooms-timer): a `breakout.timer` event goes to every
# attendee of the tree this many seconds before the end (comma-separated lead times).
_timer_warnings = env_list("BREAKOUT_TIMER_WARNINGS", ["60"])
if not all(value.isdigit() and int(value) > 0 for value in _timer_warnings):
    raise ImproperlyConfigured("BREAKOUT_TIMER_WARNINGS must list positive integers (seconds)")
BREAKOUT_TIMER_WARNINGS = sorted({int(value) for value in _timer_warnings}, reverse=True)

# Webhook bots (README "Bots"): the worker's delivery job runs every BOTS_DELIVERY_INTERVAL_SECONDS
# (at most as often as the worker's housekeeping looks); each POST to a bot times out after
# BOTS_DELIVERY_TIMEOUT_SECONDS; a failed delivery is retried with exponential backoff (from
# BOTS_RETRY_BASE_SECONDS up to BOTS_RETRY_MAX_SECONDS) until BOTS_RETRY_MAX_AGE_HOURS after it was
# due; a bot whose last BOTS_FAILING_AFTER attempts all failed is marked failing. Bots receive
# BOTS_BACKEND_URL in X-Nextcloud-Talk-Backend (the base URL they answer to). Bot answers whose
# random was seen within BOTS_REPLAY_WINDOW_SECONDS are refused as replays.
BOTS_DELIVERY_INTERVAL_SECONDS = env_int("BOTS_DELIVERY_INTERVAL_SECONDS", 2, minimum=1)
BOTS_DELIVERY_TIMEOUT_SECONDS = env_int("BOTS_DELIVERY_TIMEOUT_SECONDS", 5, minimum=1)
BOTS_RETRY_BASE_SECONDS = env_int("BOTS_RETRY_BASE_SECONDS", 5, minimum=1)
BOTS_RETRY_MAX_SECONDS = env_int("BOTS_RETRY_MAX_SECONDS", 3600, minimum=1)
BOTS_RETRY_MAX_AGE_HOURS = env_int("BOTS_RETRY_MAX_AGE_HOURS", 24, minimum=1)
BOTS_FAILING_AFTER = env_int("BOTS_FAILING_AFTER", 5, minimum=1)
BOTS_BACKEND_URL = env_str("BOTS_BACKEND_URL", "http://127.0.0.1:8000/")
BOTS_REPLAY_WINDOW_SECONDS = env_int("BOTS_REPLAY_WINDOW_SECONDS", 900, minimum=1)
