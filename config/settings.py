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
    # The admin's modules are found when the URLs load (config/urls.py), not at every
    # process start: a command such as generate_report starts without them.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_q",
    "corsheaders",
    "monitoring",
    # The API layer; strawberry_django itself needs no app entry (leaving it out keeps
    # management commands from importing it at start-up).
    "graphql_schema",
]

MIDDLEWARE = [
    # CORS for the API's paths (CORS_* below): it answers a preflight itself, before the
    # token check, CSRF and rate limits, and adds its headers to every API answer, errors
    # included, so that a browser app on an allowed origin can read them.
    "corsheaders.middleware.CorsMiddleware",
    # Then: a path or query string with NUL or bytes that are not UTF-8 is refused (400).
    "monitoring.web.middleware.MalformedRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (and the usual headers) on every HTML response.
    "monitoring.web.middleware.ContentSecurityPolicyMiddleware",
    # Static files (GraphiQL's scripts, the admin's styles), in production too: see STATIC_URL.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "monitoring.web.middleware.ApiAccessMiddleware",
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
# A connection kept between requests (conn_max_age) is checked before a request or a
# worker task reuses it: one the server dropped (restart, failover, idle timeout) is
# replaced instead of failing that request.
# Under the ASGI server (config/asgi.py sets DATABASE_CONN_MAX_AGE=0) each request runs in
# a thread of its own: a connection kept by a thread that ends would be leaked, so there
# each request opens and closes its own.
DATABASE_CONN_MAX_AGE = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True)}
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

# Static files are served by WhiteNoise (its middleware, right after SecurityMiddleware)
# straight from the apps' static/ folders (WHITENOISE_USE_FINDERS): no collectstatic
# step, the same under uvicorn (`make run`), runserver and gunicorn, DEBUG or not. The list is
# read once at start-up (WHITENOISE_AUTOREFRESH follows DEBUG). GraphiQL's vendored
# files sit in folders named by version (graphql_schema/static/graphiql/NAME-X.Y.Z/),
# so browsers may keep them for good; our other files are kept 60 s.
STATIC_URL = "static/"
# Only for a `collectstatic` of your own (not needed); WhiteNoise serves it too when set.
STATIC_ROOT = os.environ.get("STATIC_ROOT", "").strip() or None
WHITENOISE_USE_FINDERS = True
WHITENOISE_IMMUTABLE_FILE_TEST = r"/graphiql/[a-z][a-z-]*-\d+\.\d+\.\d+/"

# Security headers that cost nothing in either mode.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# The report engine and its defaults (docs/rules.md §2, §4).
REPORT_HORIZON_MINUTES = int(os.environ.get("REPORT_HORIZON_MINUTES", "120"))
# Signed download links expire after this many seconds (docs/rules.md §6).
REPORT_LINK_MAX_AGE = int(os.environ.get("REPORT_LINK_MAX_AGE", "3600"))
# The address people reach this server at, for links sent outside a request (a scheduled
# report's download link, docs/rules.md §11): scheme, host and port, no path.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").strip().rstrip("/")
if not PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("PUBLIC_URL must be an http:// or https:// address, e.g. https://uptime.example.com")
# A poll stamped later than now + this many seconds (wall clock) is refused (docs/rules.md §7).
POLL_MAX_FUTURE_SECONDS = int(os.environ.get("POLL_MAX_FUTURE", "300"))

# The server log (config/log_format.py): a client error (4xx) is one line, "METHOD path
# status reason", without a traceback; a server error (5xx) is that line and its
# traceback. GraphQL errors likewise (graphql_schema.common.errors.Schema.process_errors).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "operator": {
            "()": "config.log_format.RequestLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S",
        }
    },
    "filters": {"routine_tasks": {"()": "config.log_format.RoutineTaskLines"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "operator"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        # An idle worker is quiet: django-q's line per scheduled task only at LOG_LEVEL=DEBUG.
        "django-q": {"filters": ["routine_tasks"]},
    },
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
    # How often an idle cluster asks the ORM queue for a task: the wait a queued report
    # (and each of its chunks) may add, against ~10 small queries a second per cluster.
    "poll": float(os.environ.get("Q_POLL_SECONDS", "0.1")),
    # Reports keep their own state: no row per successful task (an insert, a count and
    # a delete each); failures are still kept for the admin.
    "save_limit": -1,
    "catch_up": False,
    "ack_failures": True,
}
# Alert delivery has its own cluster and queue (Q_ALERT_CLUSTER, set up with the alert
# settings below), so a slow webhook receiver never holds the workers reports wait for.
Q_REPORT_CLUSTER = Q_CLUSTER["name"]
Q_ALERT_CLUSTER = "alerts"
# Each cluster runs under a supervisor (monitoring.worker.supervisor: `serve`, or `manage.py
# supervise_workers` in production) that restarts it when it exits, when a process of it
# has been stopped, when it does not reap a dead process, or when tasks have waited in its
# queue for SUPERVISOR_STALL_SECONDS while none started and no worker beats on a task:
# SIGTERM, SIGKILL to its process group after SUPERVISOR_GRACE_SECONDS, a new one.
SUPERVISOR_STALL_SECONDS = float(os.environ.get("SUPERVISOR_STALL_SECONDS", "4"))
SUPERVISOR_GRACE_SECONDS = float(os.environ.get("SUPERVISOR_GRACE_SECONDS", "1"))
if SUPERVISOR_STALL_SECONDS < 3 or SUPERVISOR_GRACE_SECONDS < 0:
    raise ImproperlyConfigured("SUPERVISOR_STALL_SECONDS must be at least 3, SUPERVISOR_GRACE_SECONDS ≥ 0")
if Q_BROKER == "orm":
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["broker_class"] = "monitoring.worker.brokers.OrmBroker"  # django-q2's, noting what its pusher takes
else:  # Redis is a setting away: Q_BROKER=redis, REDIS_URL=redis://host:6379/0
    Q_CLUSTER["redis"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    Q_CLUSTER["broker_class"] = "monitoring.worker.brokers.RedisBroker"

STRAWBERRY_DJANGO = {
    # Page sizes are capped whatever the client asks for.
    "PAGINATION_DEFAULT_LIMIT": 100,
    "PAGINATION_MAX_LIMIT": 500,
}

# GraphQL limits: a query is priced before any resolver runs
# (graphql_schema.limits.pricing: the most objects and list entries its response can hold) and
# refused above GRAPHQL_MAX_NODES (0: not priced); a response longer than
# GRAPHQL_MAX_RESPONSE_BYTES is replaced by an error stating the limit (0: off).
GRAPHQL_MAX_NODES = int(os.environ.get("GRAPHQL_MAX_NODES", "50000"))
GRAPHQL_MAX_RESPONSE_BYTES = int(os.environ.get("GRAPHQL_MAX_RESPONSE_BYTES", str(5 * 1024 * 1024)))

# GraphQL reads of store data are cached per data version (graphql_schema.limits.read_cache)
# for at most API_READ_CACHE_SECONDS (0: off), in a cache every web process shares
# (graphql_schema.limits.shared_cache): a table of this PostgreSQL (made by `migrate`), or
# Redis when REDIS_URL is set. It holds at most API_READ_CACHE_BYTES, and no response whose
# stored form is above API_READ_CACHE_MAX_ENTRY_BYTES.
API_READ_CACHE_SECONDS = int(os.environ.get("API_READ_CACHE_SECONDS", "600"))
API_READ_CACHE_BYTES = int(os.environ.get("API_READ_CACHE_BYTES", str(64 * 1024 * 1024)))
API_READ_CACHE_MAX_ENTRY_BYTES = int(os.environ.get("API_READ_CACHE_MAX_ENTRY_BYTES", str(256 * 1024)))
if API_READ_CACHE_MAX_ENTRY_BYTES < 1 or API_READ_CACHE_BYTES < 2 * API_READ_CACHE_MAX_ENTRY_BYTES:
    raise ImproperlyConfigured("API_READ_CACHE_BYTES must be at least twice API_READ_CACHE_MAX_ENTRY_BYTES (≥ 1)")
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
_READ_CACHE_BYTES = {"MAX_BYTES": API_READ_CACHE_BYTES, "MAX_ENTRY_BYTES": API_READ_CACHE_MAX_ENTRY_BYTES}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
    "api": (
        {
            "BACKEND": "graphql_schema.limits.shared_cache.BoundedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("API_READ_CACHE_KEY_PREFIX", "uptime-api-reads"),
            "OPTIONS": _READ_CACHE_BYTES,
        }
        if REDIS_URL
        else {
            "BACKEND": "graphql_schema.limits.shared_cache.BoundedDatabaseCache",
            "LOCATION": "graphql_read_cache",
            "OPTIONS": _READ_CACHE_BYTES,
        }
    ),
}

# Browser apps on other origins (docs/rules.md §14): CORS on the API's paths only (GraphQL,
# REST, download links; monitoring.web.middleware.API_PREFIXES), for the origins listed
# (scheme://host[:port], comma-separated; none by default). No cookies cross origins
# (credentials off): such an app sends its token in the Authorization header. A preflight
# needs no token; it may be kept CORS_PREFLIGHT_MAX_AGE seconds.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_URLS_REGEX = r"^/(graphql|trigger_report|get_report|store|reports/download)/"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
CORS_ALLOW_HEADERS = ("authorization", "content-type", "if-none-match")
CORS_EXPOSE_HEADERS = ("etag", "retry-after", "x-report-status", "x-read-cache")
CORS_PREFLIGHT_MAX_AGE = int(os.environ.get("CORS_PREFLIGHT_MAX_AGE", "7200"))

# Without a bearer token the API answers for every store (the demo) or 401 (production).
API_ANONYMOUS_ACCESS = env_bool("API_ANONYMOUS_ACCESS", not PRODUCTION)

# Reports are computed this many stores at a time at most (chunks, in store_id order; at
# least one per worker, of equal sizes; several are parallel tasks): a report's memory
# follows this, not the fleet. A week reads kept days and about two days of polls per
# store, so a chunk of 30,000 stores holds about 2 M polls.
REPORT_CHUNK_SIZE = int(os.environ.get("REPORT_CHUNK_SIZE", "30000"))
# `generate_report` (and other whole-fleet CSVs written in one process) computes this
# many chunks at a time, in threads, while it writes the file in order.
REPORT_PROCESS_THREADS = int(os.environ.get("REPORT_PROCESS_THREADS", "2"))
# Report workers lower their CPU priority by this much (nice) before their first report,
# so web requests go first on a shared machine (0: unchanged).
REPORT_WORKER_NICE = int(os.environ.get("REPORT_WORKER_NICE", "10"))
# A report is retried at most this many times (worker death, lost database connection).
REPORT_MAX_ATTEMPTS = int(os.environ.get("REPORT_MAX_ATTEMPTS", "3"))
# A PENDING/RUNNING report with no progress for this long is stale: retried or FAILED.
REPORT_STALE_AFTER = int(os.environ.get("REPORT_STALE_AFTER", str(Q_CLUSTER["retry"] + 60)))

# Tenancy: reports (rows, chunks, CSV) are deleted this many days after they
# were made, by a daily schedule on the workers (monitoring.reports.reports_prune); their
# download links then answer 410. X-Forwarded-Proto is believed only when told that a
# proxy we trust sets it (TRUSTED_PROXY=1): otherwise any client could claim HTTPS.
REPORT_RETENTION_DAYS = int(os.environ.get("REPORT_RETENTION_DAYS", "30"))
if REPORT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("REPORT_RETENTION_DAYS must be at least 1")
TRUSTED_PROXY = env_bool("TRUSTED_PROXY", False)
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Abuse limits: requests riding a browser session must come from our own
# pages (monitoring.stores.access.cross_site_problem: CSRF token or same origin); report
# triggers (REST and GraphQL) and recordPolls are limited per caller (API token, admin
# user, or anonymous client address) to this many a minute, counted in PostgreSQL so
# every web process shares them (monitoring.throttle; 0: no limit); admin sign-in is
# locked for ADMIN_LOGIN_LOCKOUT_MINUTES after ADMIN_LOGIN_FAILURE_LIMIT wrong passwords
# for one username from one address (django-axes; 0 failures: off).
RATE_LIMIT_REPORTS = int(os.environ.get("RATE_LIMIT_REPORTS", "30"))
RATE_LIMIT_POLLS = int(os.environ.get("RATE_LIMIT_POLLS", "600"))
# setSpecialHours, clearSpecialHours, createWebhook, deleteWebhook, createReportSchedule
# and deleteReportSchedule count together, per caller, this many a minute (0: no limit):
# each takes the writer lock every other writer waits for, or adds a subscriber. A store
# keeps at most SPECIAL_HOURS_MAX_ROWS_PER_STORE special-hours rows written through the API.
RATE_LIMIT_WRITES = int(os.environ.get("RATE_LIMIT_WRITES", "120"))
SPECIAL_HOURS_MAX_ROWS_PER_STORE = int(os.environ.get("SPECIAL_HOURS_MAX_ROWS_PER_STORE", "2000"))
INSTALLED_APPS += ["monitoring.throttle", "axes"]
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes asks
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
ADMIN_LOGIN_FAILURE_LIMIT = int(os.environ.get("ADMIN_LOGIN_FAILURE_LIMIT", "10"))
AXES_ENABLED = ADMIN_LOGIN_FAILURE_LIMIT > 0
AXES_FAILURE_LIMIT = max(1, ADMIN_LOGIN_FAILURE_LIMIT)
AXES_COOLOFF_TIME = int(os.environ.get("ADMIN_LOGIN_LOCKOUT_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "monitoring.throttle.limits.client_address"  # TRUSTED_PROXY: X-Forwarded-For
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # lockouts, not every attempt nor its start-up line

# Alerts (docs/rules.md §10; monitoring.alerts): webhooks are posted, or emails sent,
# by the workers; each delivery is tried ALERT_MAX_ATTEMPTS times, waiting
# ALERT_RETRY_SECONDS × 3^(attempt − 1) between tries, each try given ALERT_TIMEOUT_SECONDS.
# A webhook URL on a loopback or private address is refused in production unless
# WEBHOOK_ALLOW_PRIVATE=1. Email: the console backend unless EMAIL_HOST is set (then SMTP,
# with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS).
INSTALLED_APPS += ["monitoring.alerts"]
ALERT_MAX_ATTEMPTS = int(os.environ.get("ALERT_MAX_ATTEMPTS", "5"))
ALERT_RETRY_SECONDS = float(os.environ.get("ALERT_RETRY_SECONDS", "10"))
ALERT_TIMEOUT_SECONDS = float(os.environ.get("ALERT_TIMEOUT_SECONDS", "5"))
if ALERT_MAX_ATTEMPTS < 1 or ALERT_RETRY_SECONDS < 0 or ALERT_TIMEOUT_SECONDS <= 0:
    raise ImproperlyConfigured("ALERT_MAX_ATTEMPTS must be ≥ 1, ALERT_RETRY_SECONDS ≥ 0, ALERT_TIMEOUT_SECONDS > 0")
# Escalation (docs/rules.md §13): how long one minute of an escalation policy lasts, in
# seconds. 60; smaller only to make time pass faster in tests and demos.
ESCALATION_MINUTE_SECONDS = float(os.environ.get("ESCALATION_MINUTE_SECONDS", "60"))
if ESCALATION_MINUTE_SECONDS <= 0:
    raise ImproperlyConfigured("ESCALATION_MINUTE_SECONDS must be > 0")
# The alerts cluster: `Q_CLUSTER_NAME=alerts manage.py qcluster` (serve and
# supervise_workers start it beside the report cluster), ALERT_WORKERS processes. A
# webhook try takes at most ALERT_TIMEOUT_SECONDS × 2 of wall clock; an alert task is
# stopped after that and a margin for its database work, and a task whose worker died is
# handed out again after that (a second run is a no-op: each attempt is claimed first).
ALERT_WORKERS = int(os.environ.get("ALERT_WORKERS", "2"))
if ALERT_WORKERS < 1:
    raise ImproperlyConfigured("ALERT_WORKERS must be at least 1")
ALERT_TASK_TIMEOUT = int(ALERT_TIMEOUT_SECONDS * 2) + 30
Q_CLUSTER["ALT_CLUSTERS"] = {
    Q_ALERT_CLUSTER: {"workers": ALERT_WORKERS, "timeout": ALERT_TASK_TIMEOUT, "retry": ALERT_TASK_TIMEOUT + 30},
}
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", not PRODUCTION)
# Scheduled range reports (docs/rules.md §11; monitoring.schedules): each worker's sweep
# starts a period's report once the period is over; its delivery is tried as alerts' are,
# on the alerts cluster, with the ALERT_* settings above.
INSTALLED_APPS += ["monitoring.schedules"]
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "alerts@localhost")

# Scaling (docs/scaling.md). Finished report CSVs live in the "reports"
# storage: files under REPORT_FILES_DIR by default; REPORT_STORAGE=s3 puts them in any
# S3-compatible bucket through django-storages (install django-storages[s3]; credentials
# from the usual AWS_* variables). Downloads above REPORT_DOWNLOAD_STREAM_ABOVE bytes are
# streamed from the storage in blocks, smaller ones sent in one piece.
REPORT_FILES_DIR = Path(os.environ.get("REPORT_FILES_DIR", DATA_DIR / "reports"))
REPORT_STORAGE = os.environ.get("REPORT_STORAGE", "filesystem").strip().lower()
if REPORT_STORAGE == "filesystem":
    # A folder per database: <REPORT_FILES_DIR>/<database name>/<report id>.csv
    _REPORT_STORAGE = {"BACKEND": "monitoring.kernel.storage.PerDatabaseFileSystemStorage", "OPTIONS": {"location": REPORT_FILES_DIR}}
elif REPORT_STORAGE == "s3":
    _REPORT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("REPORT_S3_BUCKET", ""),
            "endpoint_url": os.environ.get("REPORT_S3_ENDPOINT_URL") or None,  # any S3-compatible store
            "location": os.environ.get("REPORT_S3_PREFIX", "reports"),
            "file_overwrite": True,
            "default_acl": None,
        },
    }
    if not _REPORT_STORAGE["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("REPORT_STORAGE=s3 needs REPORT_S3_BUCKET")
else:
    raise ImproperlyConfigured("REPORT_STORAGE must be 'filesystem' or 's3'")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "reports": _REPORT_STORAGE,
}
REPORT_DOWNLOAD_STREAM_ABOVE = int(os.environ.get("REPORT_DOWNLOAD_STREAM_ABOVE", str(1024 * 1024)))
# Fast failover: a running report chunk beats every REPORT_HEARTBEAT_SECONDS; the sweep
# (a thread in each worker process, every REPORT_SWEEP_SECONDS) queues again a chunk
# silent for REPORT_CHUNK_STALE_AFTER seconds. Q_RETRY stays the backstop.
# A beat is one UPDATE of one row: beating every second costs nothing, and a killed
# run's chunk (or a report whose task a killed worker took) is queued again within
# seconds, not half a minute. A run starved of CPU past the staleness is at worst
# computed twice; its rows commit once.
REPORT_HEARTBEAT_SECONDS = float(os.environ.get("REPORT_HEARTBEAT_SECONDS", "1"))
REPORT_SWEEP_SECONDS = float(os.environ.get("REPORT_SWEEP_SECONDS", "2"))
REPORT_CHUNK_STALE_AFTER = float(os.environ.get("REPORT_CHUNK_STALE_AFTER", "6"))
if not REPORT_HEARTBEAT_SECONDS < REPORT_CHUNK_STALE_AFTER:
    raise ImproperlyConfigured("REPORT_HEARTBEAT_SECONDS must be below REPORT_CHUNK_STALE_AFTER")
# Read replicas: with DATABASE_REPLICA_URL set, GraphQL reads go to it (config/db_router.py);
# writes, and the reads of everything else, to DATABASE_URL.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
    MIDDLEWARE.append("config.db_router.GraphQLReplicaReadsMiddleware")
# Polls older than this many days are dropped daily (python manage.py prune_polls).
POLL_RETENTION_DAYS = int(os.environ.get("POLL_RETENTION_DAYS", "35"))
if POLL_RETENTION_DAYS < 8:  # a report reads a week and the horizon before it
    raise ImproperlyConfigured("POLL_RETENTION_DAYS must be at least 8")
# The longest range a history question may span, in days (docs/rules.md §11): a range
# report, Store.uptimeBetween and Store.daily are refused beyond it.
HISTORY_RETENTION_DAYS = int(os.environ.get("HISTORY_RETENTION_DAYS", "400"))
if HISTORY_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("HISTORY_RETENTION_DAYS must be at least 1")
# Kept days (store × local date) one run of the minute's schedule computes at most
# (monitoring.tasks.keep_daily_figures); `load_data` keeps every day it loaded at once.
HISTORY_KEEP_BUDGET = int(os.environ.get("HISTORY_KEEP_BUDGET", "200000"))

# The fleet page (monitoring.fleet): after a write, a ranking computed at most
# this long ago is still shown while a worker computes the new one (0: always wait for it).
INSTALLED_APPS += ["monitoring.fleet"]
FLEET_SUMMARY_MAX_AGE_SECONDS = float(os.environ.get("FLEET_SUMMARY_MAX_AGE_SECONDS", "60"))

# Live updates (docs/rules.md §14): GraphQL subscriptions over WebSocket at /graphql/
# (graphql-transport-ws only), served with HTTP by the ASGI server (config/asgi.py,
# uvicorn). Events cross processes through the channel layer: PostgreSQL's LISTEN/NOTIFY
# on the project's own database (monitoring.live.layers), or Redis when REDIS_URL is set.
# A connection holds at most LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION operations at once
# (the next is refused with an error); browsers on another origin may open one only
# from CORS_ALLOWED_ORIGINS (above, as for HTTP).
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"uptime-live:{DATABASES['default']['NAME']}"},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "monitoring.live.layers.PostgresChannelLayer", "CONFIG": {"database": "default", "notify_channel": "uptime_live"}}
    }
LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION = int(os.environ.get("LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION", "10"))
if LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION < 1:
    raise ImproperlyConfigured("LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION must be at least 1")
# A socket's token is checked again before events are sent to it, at most this often
# (seconds): a token revoked meanwhile closes the socket.
LIVE_TOKEN_RECHECK_SECONDS = float(os.environ.get("LIVE_TOKEN_RECHECK_SECONDS", "30"))
