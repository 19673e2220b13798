"""Settings come from the environment; see README "Configuration".

Two modes, chosen by DJANGO_ENV:
- development (default): DEBUG still off unless DEBUG=1; a random SECRET_KEY is created
  once under .data/ when none is given; anonymous API access on (the demo).
- production: SECRET_KEY required, secure cookies, HSTS, SSL redirect, anonymous off.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / ".data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ENVIRONMENT = os.environ.get("DJANGO_ENV", "development").strip().lower()
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'")
PRODUCTION = ENVIRONMENT == "production"


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    # Development: one random key per checkout, kept so signed links survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_q",
    "monitoring",
    # The API layer; strawberry_django itself needs no app entry (leaving it out keeps
    # management commands from importing it at start-up).
    "graphql_schema",
]

MIDDLEWARE = [
    # First: a path or query string with NUL or bytes that are not UTF-8 is refused (400).
    "monitoring.middleware.MalformedRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "monitoring.middleware.ApiAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if not DATABASE_URL:
    from config.embedded_postgres import embedded_database_url

    DATABASE_URL = embedded_database_url(DATA_DIR)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# Security headers that cost nothing in either mode.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# The report engine and its defaults (SPEC §2, §4).
REPORT_HORIZON_MINUTES = int(os.environ.get("REPORT_HORIZON_MINUTES", "120"))
# Signed download links expire after this many seconds (SPEC §6).
REPORT_LINK_MAX_AGE = int(os.environ.get("REPORT_LINK_MAX_AGE", "3600"))
# A poll stamped later than now + this many seconds (wall clock) is refused (SPEC §7).
POLL_MAX_FUTURE_SECONDS = int(os.environ.get("POLL_MAX_FUTURE", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}

# django-q2 on the ORM broker: the queue lives in the same PostgreSQL, no extra service.
# retry must exceed timeout so a task is not handed out twice while still running.
Q_BROKER = os.environ.get("Q_BROKER", "orm").strip().lower()
if Q_BROKER not in {"orm", "redis"}:
    raise ImproperlyConfigured("Q_BROKER must be 'orm' or 'redis'")
Q_CLUSTER = {
    "name": "uptime",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": int(os.environ.get("Q_TIMEOUT", "300")),
    "retry": int(os.environ.get("Q_RETRY", "360")),
    "max_attempts": int(os.environ.get("Q_MAX_ATTEMPTS", "3")),
    "poll": 0.2,
    # Reports keep their own state: no row per successful task (an insert, a count and
    # a delete each); failures are still kept for the admin.
    "save_limit": -1,
    "catch_up": False,
    "ack_failures": True,
}
if Q_BROKER == "orm":
    Q_CLUSTER["orm"] = "default"
else:  # Redis is a setting away: Q_BROKER=redis, REDIS_URL=redis://host:6379/0
    Q_CLUSTER["redis"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

STRAWBERRY_DJANGO = {
    # Page sizes are capped whatever the client asks for.
    "PAGINATION_DEFAULT_LIMIT": 100,
    "PAGINATION_MAX_LIMIT": 500,
}

# GraphQL reads of store data are cached per data version (graphql_schema.read_cache):
# in each process's memory, for at most this many seconds (0: off).
API_READ_CACHE_SECONDS = int(os.environ.get("API_READ_CACHE_SECONDS", "600"))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
    "api": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "api-reads",
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    },
}

# Without a bearer token the API answers for every store (the demo) or 401 (production).
API_ANONYMOUS_ACCESS = env_bool("API_ANONYMOUS_ACCESS", not PRODUCTION)

# Reports over more stores than this are split into chunks computed by parallel tasks
# (one task reads the polls once; chunks pay off with workers on several machines).
REPORT_CHUNK_SIZE = int(os.environ.get("REPORT_CHUNK_SIZE", "20000"))
# Report workers lower their CPU priority by this much (nice) before their first report,
# so web requests go first on a shared machine (0: unchanged).
REPORT_WORKER_NICE = int(os.environ.get("REPORT_WORKER_NICE", "10"))
# A report is retried at most this many times (worker death, lost database connection).
REPORT_MAX_ATTEMPTS = int(os.environ.get("REPORT_MAX_ATTEMPTS", "3"))
# A PENDING/RUNNING report with no progress for this long is stale: retried or FAILED.
REPORT_STALE_AFTER = int(os.environ.get("REPORT_STALE_AFTER", str(Q_CLUSTER["retry"] + 60)))
