"""Settings for Huanxin, driven by the environment.

The embedded default (no environment at all) is a pilot installation: SQLite and local files under
``var/``, with secrets generated on first run. A city installation sets ``DATABASE_URL``,
``HUANXIN_SECRET_KEY``, ``HUANXIN_PII_KEYS`` and friends; see ``docs/OPERATIONS.md``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext

from huanxin.core.secrets import load_or_create_local_secrets

# Lets admin and queryset classes be subscripted at run time (ModelAdmin[Person]) for mypy.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """A string setting from the environment."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean setting: 1/true/yes/on (any case) mean true."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """An integer setting."""
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list setting."""
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


VAR_DIR = Path(env_str("HUANXIN_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Secrets come from the environment in production. The embedded default writes them once to
# var/secrets.json (mode 0600) so that a restart keeps sessions valid and encrypted data readable.
_local_secrets = load_or_create_local_secrets(VAR_DIR / "secrets.json")
SECRET_KEY = env_str("HUANXIN_SECRET_KEY") or _local_secrets["secret_key"]
# PII encryption keys: "kid:base64key,kid2:base64key2"; the first one encrypts, all of them decrypt.
PII_KEYS = env_str("HUANXIN_PII_KEYS") or _local_secrets["pii_keys"]
# Keyed hash for lookups of encrypted identifiers; must never change once data exists.
PII_HMAC_KEY = env_str("HUANXIN_PII_HMAC_KEY") or _local_secrets["pii_hmac_key"]

DEBUG = env_bool("HUANXIN_DEBUG", False)
ALLOWED_HOSTS = env_list("HUANXIN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("HUANXIN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "huanxin.core",
    "huanxin.accounts",
    "huanxin.policy",
    "huanxin.catalogue",
    "huanxin.subsidies",
    "huanxin.settlement",
    "huanxin.trace",
    "huanxin.vehicles",
    "huanxin.recycling",
    "huanxin.web",
]

MIDDLEWARE = [
    "huanxin.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "huanxin.core.middleware.InputGuardMiddleware",
    "huanxin.core.idempotency.IdempotencyMiddleware",
    "huanxin.core.middleware.DomainErrorMiddleware",
    "huanxin.core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "huanxin.urls"
WSGI_APPLICATION = "huanxin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "huanxin.web.context_processors.navigation",
            ],
            "builtins": ["huanxin.core.templatetags.money", "huanxin.catalogue.templatetags.categories"],
        },
    },
]

# SQLite by default; PostgreSQL (or anything dj-database-url understands) with DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'huanxin.sqlite3'}",
        conn_max_age=env_int("HUANXIN_DB_CONN_MAX_AGE", 60),
        # A health check is a ``SELECT 1`` at the start of every request that reuses a connection. Off by
        # default: after a database restart each worker fails one request and reconnects on the next. Turn
        # it on where a proxy or firewall silently drops idle connections.
        conn_health_checks=env_bool("HUANXIN_DB_HEALTH_CHECKS", False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy timeout instead of
    # failing with "database is locked" when one upgrades a read transaction to a write.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding: parameters travel apart from the statement text. (Django's default binds
    # parameters into the text on the client.)
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["server_side_binding"] = env_bool("HUANXIN_DB_SERVER_SIDE_BINDING", True)
    # Prepared statements: psycopg prepares a statement once a connection has run it this many times, so
    # PostgreSQL stops parsing and planning the same claim, redemption and audit statements on every
    # request (with persistent connections that is most statements; planning is most of PostgreSQL's
    # work for a claim). Django turns them off unless told, for proxies that pool connections per
    # transaction: set 0 behind such a proxy when it cannot keep prepared statements (PgBouncer before 1.21).
    prepare_threshold = env_int("HUANXIN_DB_PREPARE_THRESHOLD", 5)
    if options["server_side_binding"] and prepare_threshold > 0:
        options["prepare_threshold"] = prepare_threshold

# A retried Idempotency-Key whose first attempt's worker died is taken over at once when the record's owner
# (the database session on PostgreSQL, core.liveness) is gone. Behind a proxy that pools connections per
# transaction the session is not the request's: turn it off there, and such a key waits for its age.
HUANXIN_IDEMPOTENCY_OWNER_CHECK = env_bool("HUANXIN_IDEMPOTENCY_OWNER_CHECK", True)

# Car subsidy applications: a legal clock is flagged as due soon this many working days before its due day.
HUANXIN_CAR_CLOCK_DUE_SOON_DAYS = env_int("HUANXIN_CAR_CLOCK_DUE_SOON_DAYS", 1)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "huanxin.accounts.backends.PhoneOrUsernameBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

CACHE_URL = env_str("HUANXIN_CACHE_URL")
CACHES: dict[str, dict[str, Any]]
if CACHE_URL.startswith("redis://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    # A file cache is shared by all application-server workers on one machine, so a session cached by one
    # worker is found by the others. (Sign-in and code limits are counted in the database, not here.)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            # Sessions live here too (cached_db). Django's default of 300 entries would evict most signed-in
            # residents' sessions, sending each of their requests back to the session table.
            "OPTIONS": {"MAX_ENTRIES": env_int("HUANXIN_FILE_CACHE_MAX_ENTRIES", 200_000)},
        }
    }

# Simplified Chinese only: the pages and messages have no translations yet, and a language offered half
# translated gives pages that mix two (Django's own messages in English beside our Chinese). With one
# language there is nothing to negotiate, so no LocaleMiddleware: a browser asking for English, or a
# language cookie, still gets the whole page in Chinese.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# Sessions are read from the cache and written through to the database: a request does not query the
# session table, and signing out or revoking a session still takes effect at once (unlike signed cookies).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("HUANXIN_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("HUANXIN_SESSION_SECONDS", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind HTTPS (docs/OPERATIONS.md): off by default, because the embedded run answers on http://127.0.0.1,
# where a redirect to https or an HSTS header would lock the browser out of the demo.
SECURE_SSL_REDIRECT = env_bool("HUANXIN_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("HUANXIN_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HUANXIN_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("HUANXIN_HSTS_PRELOAD", False)
# Entering the browsers' preload list binds every host of the registrable domain (the city's zone) to HTTPS
# for good: the domain's owner decides it, not this application, so the deploy check's reminder is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# The proxy that ends TLS says so in X-Forwarded-Proto; trusted only when the operator says every request
# comes through it (a client could send the header itself).
if env_bool("HUANXIN_BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Set by core.middleware.SecurityHeadersMiddleware on every response. Scripts and styles come only from this
# site's static files: no inline <script>, no on…= handlers, no style attributes (htmx's own indicator
# <style> is turned off in web/base.html). QR codes are data: images.
HUANXIN_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Pluggable integrations: production points these at the city's SMS gateway and identity service.
HUANXIN_SMS_BACKEND = env_str("HUANXIN_SMS_BACKEND", "huanxin.accounts.sms.LogSmsBackend")
HUANXIN_IDENTITY_VERIFIER = env_str("HUANXIN_IDENTITY_VERIFIER", "huanxin.accounts.identity.ChecksumIdentityVerifier")
HUANXIN_OTP_TTL_SECONDS = env_int("HUANXIN_OTP_TTL_SECONDS", 300)
HUANXIN_LOGIN_MAX_FAILURES = env_int("HUANXIN_LOGIN_MAX_FAILURES", 5)
HUANXIN_LOGIN_LOCK_SECONDS = env_int("HUANXIN_LOGIN_LOCK_SECONDS", 900)
# Look-ups of the public scrap-certificate check per client address and hour (numbers run in sequence).
HUANXIN_PUBLIC_CHECKS_PER_HOUR = env_int("HUANXIN_PUBLIC_CHECKS_PER_HOUR", 300)
# Owner identity numbers that did not match the registry, per scrapping enterprise and hour, before intake
# refuses to check more (the check would otherwise tell anyone with a yard login whose ID owns which car).
HUANXIN_INTAKE_OWNER_MISMATCHES_PER_HOUR = env_int("HUANXIN_INTAKE_OWNER_MISMATCHES_PER_HOUR", 20)
# Seconds before another code may be sent to the same number (shown as a countdown on the page).
HUANXIN_OTP_RESEND_SECONDS = env_int("HUANXIN_OTP_RESEND_SECONDS", 60)
# The request header a trusted reverse proxy puts the client's address in (e.g. X-Forwarded-For or
# X-Real-IP); empty means REMOTE_ADDR, and the header is then never read (clients can forge it).
HUANXIN_CLIENT_IP_HEADER = env_str("HUANXIN_CLIENT_IP_HEADER", "")
# How long a verified password-reset code lets its holder choose a new password.
PASSWORD_RESET_TIMEOUT = env_int("HUANXIN_PASSWORD_RESET_SECONDS", 600)
HUANXIN_IDEMPOTENCY_TTL_HOURS = env_int("HUANXIN_IDEMPOTENCY_TTL_HOURS", 72)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "huanxin.core.logging.RequestIdFilter"},
        "client_errors": {"()": "huanxin.core.logging.ClientErrorFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "client_errors"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("HUANXIN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # On the logger as well as the handler: a record is cleaned where it is made, before any handler
        # (a file, a collector) sees it. The handler's copy covers django.security.*, which log on their own.
        "django.request": {"filters": ["client_errors"]},
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# The youngest age (full years on the claim date) at which a resident may claim a consumer subsidy. A city
# setting, not a national rule: 18 is full civil capacity under the Civil Code (民法典 第十八条), which a
# purchase with a public subsidy is taken to need. A resident below it is also refused real-name verification.
HUANXIN_MIN_CLAIM_AGE = env_int("HUANXIN_MIN_CLAIM_AGE", 18)

# Celery (production jobs). The embedded default runs the same jobs with `huanxin jobs run-due --loop`.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "rpc://")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# Traceability: the GS1 company prefix the programme's GIAI codes are issued under (the city's own prefix
# goes here; the default is a placeholder outside any real allocation) and the resolver of its Digital Links.
HUANXIN_GS1_COMPANY_PREFIX = env_str("HUANXIN_GS1_COMPANY_PREFIX", "6999999")
HUANXIN_TRACE_RESOLVER = env_str("HUANXIN_TRACE_RESOLVER", "https://id.huanxin.example.cn")
# Ed25519 key that signs the daily checkpoints: base64 of the 32-byte private key; the embedded default
# generates one into var/secrets.json.
HUANXIN_TRACE_SIGNING_KEY = env_str("HUANXIN_TRACE_SIGNING_KEY") or _local_secrets.get("trace_signing_key", "")
