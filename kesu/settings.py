"""Kesu settings: one file, every tunable read from the environment (see README, Configuration)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import django_stubs_ext

from kesu.env import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
    sqlite_database,
)

# Lets generic Django classes (ModelAdmin[User] …) be subscripted at run time, as typed.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KESU_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The key from KESU_SECRET_KEY, else one generated once and kept in var/secret_key."""
    configured = env_str("KESU_SECRET_KEY", "")
    if configured:
        return configured
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("KESU_DEBUG", False)
ALLOWED_HOSTS = env_list("KESU_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("KESU_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "kesu",
    "kesu.accounts",
    "kesu.customers",
    "kesu.complaints",
    "kesu.intake",
    "kesu.knowledge",
    "kesu.notify",
    "kesu.replies",
    "kesu.reports",
    "kesu.search",
    "kesu.sla",
    "kesu.surveys",
    "kesu.triage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kesu.middleware.LanguageMiddleware",
    "kesu.middleware.ServiceErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kesu.urls"
WSGI_APPLICATION = "kesu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kesu.notify.context.bell",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL", "")
try:
    DATABASES = {
        "default": parse_database_url(_database_url, base_dir=BASE_DIR)
        if _database_url
        else sqlite_database(VAR_DIR / "kesu.sqlite3")
    }
except ConfigError as error:
    raise SystemExit(f"Configuration error: {error}") from None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background jobs at scale (Celery; `make run` needs none of it) ----------------------------
# With a broker, `make worker` runs a Celery worker and beat that drive the same jobs as the
# embedded loop (kesu/celery.py, docs/deployment.md).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env_str("KESU_CELERY_QUEUE", "kesu")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "dispatch": {"task": "kesu.notify.dispatch", "schedule": env_int("KESU_DISPATCH_EVERY", 2)},
    "sweep": {"task": "kesu.sla.sweep", "schedule": env_int("KESU_SWEEP_EVERY", 10)},
    "follow-up": {"task": "kesu.surveys.follow_up", "schedule": 60.0},
    "escalation-risk": {"task": "kesu.triage.rescore_risks", "schedule": 60.0},
    "purge-keys": {"task": "kesu.intake.purge_idempotency_keys", "schedule": 3600.0},
    "imports": {"task": "kesu.intake.run_imports", "schedule": 10.0},
    "wecom": {"task": "kesu.intake.pull_wecom_messages", "schedule": 5.0},
    "wecom-all": {"task": "kesu.intake.pull_all_wecom_messages", "schedule": 300.0},
    "wechat-media": {"task": "kesu.intake.fetch_pending_media", "schedule": 5.0},
    "mailboxes": {
        "task": "kesu.intake.poll_mailboxes",
        "schedule": env_int("KESU_MAIL_EVERY", 60, minimum=5),
    },
}

_redis_url = env_str("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}
        if _redis_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kesu"}
    )
}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "complaints:queue"
LOGOUT_REDIRECT_URL = "login"

# Chinese first; English available (LanguageMiddleware explains the order of choice).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "kesu" / "locale"]
USE_I18N = True
USE_TZ = True
# Stored in UTC; shown and counted in the organisation's zone.
TIME_ZONE = env_str("KESU_TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# WhiteNoise serves the apps' static files straight from the finders: no collectstatic step
# and no CDN (DESIGN: everything is installed from a registry and served locally).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = env_str("KESU_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("KESU_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("KESU_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("KESU_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("KESU_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("KESU_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("KESU_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("KESU_EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("KESU_FROM_EMAIL", "Kesu <noreply@kesu.invalid>")

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("KESU_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("KESU_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Kesu itself -------------------------------------------------------------------------------
# Absolute address of this site, used in links sent to customers (tracking page).
KESU_BASE_URL = env_str("KESU_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Public intake and tracking requests per client address per minute; 0 turns the limit off.
KESU_PUBLIC_RATE_LIMIT = env_int("KESU_PUBLIC_RATE_LIMIT", 30, minimum=0)
# Trust X-Forwarded-For for the client address (only behind a proxy that sets it).
KESU_TRUST_X_FORWARDED_FOR = env_bool("KESU_TRUST_X_FORWARDED_FOR", False)
KESU_MAX_ATTACHMENT_BYTES = env_int("KESU_MAX_ATTACHMENT_MB", 10, minimum=1) * 1024 * 1024
# A whole inbound email (with its attachments) larger than this is refused, and recorded.
KESU_MAX_EMAIL_BYTES = env_int("KESU_MAX_EMAIL_MB", 25, minimum=1) * 1024 * 1024
# IMAP mailboxes (intake.jobs.poll_mailboxes): seconds between polls, the network time-out,
# and how many messages one poll takes from a mailbox at most.
KESU_MAIL_EVERY = env_int("KESU_MAIL_EVERY", 60, minimum=5)
KESU_MAIL_TIMEOUT = env_int("KESU_MAIL_TIMEOUT", 30, minimum=1)
KESU_MAIL_BATCH = env_int("KESU_MAIL_BATCH", 200, minimum=1)
# Customers are matched by a keyed hash of their ID number (customers.contact.id_card_key).
# Set it in production and keep it: a new key means no earlier ID matches any more. Without
# it, a key is derived from SECRET_KEY (which must then be kept as well).
KESU_ID_HASH_KEY = (
    env_str("KESU_ID_HASH_KEY", "")
    or hashlib.sha256(f"kesu.customers.id_card:{SECRET_KEY}".encode()).hexdigest()
)
# Seconds between runs of the embedded background loop (outbox delivery, clean-ups).
KESU_JOB_INTERVAL = env_int("KESU_JOB_INTERVAL", 5, minimum=1)
# SMS: `log` writes them to the log (development); `http` posts {"to", "text"} as JSON to
# KESU_SMS_HTTP_URL with KESU_SMS_HTTP_TOKEN as a bearer token (docs/deployment.md).
KESU_SMS_PROVIDER = env_str("KESU_SMS_PROVIDER", "log")
if KESU_SMS_PROVIDER not in {"log", "http"}:
    raise SystemExit(
        f"Configuration error: KESU_SMS_PROVIDER={KESU_SMS_PROVIDER!r}: use log or http"
    )
KESU_SMS_HTTP_URL = env_str("KESU_SMS_HTTP_URL", "")
KESU_SMS_HTTP_TOKEN = env_str("KESU_SMS_HTTP_TOKEN", "")
if KESU_SMS_PROVIDER == "http" and not KESU_SMS_HTTP_URL:
    raise SystemExit("Configuration error: KESU_SMS_PROVIDER=http needs KESU_SMS_HTTP_URL")
# Seconds a robot or SMS gateway may take to answer before the delivery counts as failed.
KESU_NOTIFY_TIMEOUT = env_int("KESU_NOTIFY_TIMEOUT", 10, minimum=1)
KESU_DEMO_PASSWORD = env_str("KESU_DEMO_PASSWORD", "kesu-demo-2026")
KESU_ORG_NAME = env_str("KESU_ORG_NAME", "")
