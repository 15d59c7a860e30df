"""Casefile settings: one module, configured from environment variables.

Local use needs no variables at all. CASEFILE_MODE=production turns on the deploy hardening
(`manage.py check --deploy` is clean) and makes SECRET_KEY and ALLOWED_HOSTS mandatory.
"""

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

MODE = env.str("CASEFILE_MODE", default="development")
if MODE not in {"development", "production"}:
    raise ImproperlyConfigured(f"CASEFILE_MODE must be development or production, not {MODE!r}")
PRODUCTION = MODE == "production"

_DEV_SECRET_KEY = "casefile-development-only-key-never-use-in-production-" + "x" * 20
SECRET_KEY = env.str("SECRET_KEY", default="" if PRODUCTION else _DEV_SECRET_KEY)
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of 50+ characters in production")

DEBUG = env.bool("DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated) in production")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "rest_framework",
    "investigations",
    "entities",
    "evidence",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "newsroom.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view says @login_not_required (login, /healthz).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "investigations.activity.ActorMiddleware",
    "newsroom.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

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
            "builtins": ["investigations.templatetags.access", "investigations.templatetags.ui"],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/casefile")
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")
# Persistent connections, checked before reuse so a restarted database does not break requests.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# A dead or hung Redis must not hold a web request: connecting and each reply wait at most
# this long, for the cache and the Celery broker alike.
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=1.0)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "casefile",
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The throttle backend refuses password checks after too many failures (investigations/login.py).
AUTHENTICATION_BACKENDS = [
    "investigations.login.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
# The client's address is REMOTE_ADDR. Behind a reverse proxy, name the header it sets on every
# request (X-Real-IP, or X-Forwarded-For: its last value is used); never set this without such
# a proxy, or clients pick their own address.
LOGIN_ADDRESS_HEADER = env.str("LOGIN_ADDRESS_HEADER", default="")
# Adding or inviting members, per acting person (investigations/services/__init__.py): no directory.
MEMBER_ADDS_PER_WINDOW = env.int("MEMBER_ADDS_PER_WINDOW", default=20)
MEMBER_ADD_WINDOW_SECONDS = env.int("MEMBER_ADD_WINDOW_SECONDS", default=600)
for _name in (
    "LOGIN_FAILURES_PER_ACCOUNT",
    "LOGIN_FAILURES_PER_ADDRESS",
    "LOGIN_FAILURE_WINDOW_SECONDS",
    "LOGIN_LOCKOUT_SECONDS",
    "MEMBER_ADDS_PER_WINDOW",
    "MEMBER_ADD_WINDOW_SECONDS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "investigations:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: evidence goes through access-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# S3-compatible object storage for evidence when S3_BUCKET is set (pip install casefile[s3]).
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- Imports ------------------------------------------------------------------------------
# Bulk shipment imports check their foreign keys once per batch of 50,000 rows (every party
# entity locked with one statement) instead of once per row, when the database role may set
# session_replication_role (a superuser, or on PostgreSQL 15+:
# GRANT SET ON PARAMETER session_replication_role TO <role>). About 20 s less per million rows.
# Without that privilege, or with this off, PostgreSQL checks every row.
IMPORT_BATCH_FOREIGN_KEYS = env.bool("IMPORT_BATCH_FOREIGN_KEYS", default=True)

# --- Evidence -------------------------------------------------------------------------------
# Uploads stream to a temporary file, hashed as they arrive and stopped at the limit.
FILE_UPLOAD_HANDLERS = ["evidence.uploads.HashingLimitedUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=100 * 1024 * 1024)
# Server-side fetches (snapshots, registries) refuse private and special addresses; these
# networks are allowed anyway (comma-separated CIDRs), for tests and intranets.
FETCH_ALLOW_NETWORKS = env.list("FETCH_ALLOW_NETWORKS", default=[])
FETCH_USER_AGENT = env.str(
    "FETCH_USER_AGENT", default="Casefile/0.1 (evidence capture for an investigative newsroom)"
)
SNAPSHOT_MAX_BYTES = env.int("SNAPSHOT_MAX_BYTES", default=50 * 1024 * 1024)
SNAPSHOT_MAX_REDIRECTS = env.int("SNAPSHOT_MAX_REDIRECTS", default=10)
SNAPSHOT_CONNECT_TIMEOUT = env.float("SNAPSHOT_CONNECT_TIMEOUT", default=10.0)
SNAPSHOT_READ_TIMEOUT = env.float("SNAPSHOT_READ_TIMEOUT", default=30.0)
SNAPSHOT_TOTAL_TIMEOUT = env.float("SNAPSHOT_TOTAL_TIMEOUT", default=120.0)
SNAPSHOT_SCREENSHOTS = env.bool("SNAPSHOT_SCREENSHOTS", default=True)
# A worker running as root starts Chromium as this user (else nobody), never as root; the
# setup creates it (useradd --system casefile-render). See evidence/browser.py.
BROWSER_USER = env.str("BROWSER_USER", default="casefile-render")
# RFC 3161 time-stamping authority for WARC hashes (empty: no timestamps).
TSA_URL = env.str("TSA_URL", default="")
# Serve evidence downloads from another origin (e.g. https://evidence.example.org), through
# short-lived signed links, so uploaded content never runs on the app's origin.
EVIDENCE_DOWNLOAD_ORIGIN = env.str("EVIDENCE_DOWNLOAD_ORIGIN", default="").rstrip("/")
EVIDENCE_LINK_MAX_AGE = env.int("EVIDENCE_LINK_MAX_AGE", default=600)

# --- Files from users: ZIP containers and text extraction -----------------------------------
# Office files (DOCX, XLSX) are ZIP archives that can expand a thousand times. Their central
# directory is checked against these limits before anything parses them, and the limits are
# held to while they are decompressed (newsroom/ziplimits.py). A document over a limit is kept,
# without its text, and says why; an import over one is refused on upload with the reason.
_MB = 1024 * 1024
ZIP_MAX_BYTES = env.int("ZIP_MAX_BYTES", default=200 * _MB)  # all members, uncompressed
ZIP_MAX_MEMBER_BYTES = env.int("ZIP_MAX_MEMBER_BYTES", default=100 * _MB)
ZIP_MAX_MEMBERS = env.int("ZIP_MAX_MEMBERS", default=10_000)
# A member over ZIP_RATIO_MIN_BYTES may expand at most this many times its compressed size.
ZIP_MAX_RATIO = env.int("ZIP_MAX_RATIO", default=100)
ZIP_RATIO_MIN_BYTES = env.int("ZIP_RATIO_MIN_BYTES", default=1 * _MB)
# XML that readers parse whole into memory: a DOCX's parts; an XLSX's workbook, styles, theme.
OOXML_MAX_XML_BYTES = env.int("OOXML_MAX_XML_BYTES", default=20 * _MB)
# openpyxl holds every shared string of a workbook in memory.
XLSX_MAX_SHARED_STRINGS = env.int("XLSX_MAX_SHARED_STRINGS", default=2_000_000)
XLSX_MAX_SHARED_STRINGS_BYTES = env.int("XLSX_MAX_SHARED_STRINGS_BYTES", default=128 * _MB)
# An imported XLSX's sheets are streamed, so it may expand further than a document.
IMPORT_XLSX_MAX_BYTES = env.int("IMPORT_XLSX_MAX_BYTES", default=2048 * _MB)
# Text extraction runs in a child process with these limits (evidence/extract_child.py).
EXTRACT_MEMORY_MB = env.int("EXTRACT_MEMORY_MB", default=512)
EXTRACT_CPU_SECONDS = env.int("EXTRACT_CPU_SECONDS", default=180)
EXTRACT_MAX_PDF_PAGES = env.int("EXTRACT_MAX_PDF_PAGES", default=5000)
EXTRACT_MAX_CELLS = env.int("EXTRACT_MAX_CELLS", default=5_000_000)

# --- Analysis: the network, paths, red flags, screening (README: "Red flags") ------------


def _checked(name: str, value, ok, expected: str):
    """A setting's value, or ImproperlyConfigured naming the variable and what it expects."""
    if not ok(value):
        raise ImproperlyConfigured(f"{name} must be {expected}, not {value!r}")
    return value


def _env_number(name: str, cast, default, ok, expected: str):
    try:
        value = cast(name, default=default)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {expected}") from exc
    return _checked(name, value, ok, expected)


def _env_codes(name: str, default: list[str], pattern: str, expected: str) -> list[str]:
    values = [v.strip().upper() for v in env.list(name, default=default) if v.strip()]
    return _checked(name, values, lambda vs: all(re.fullmatch(pattern, v) for v in vs), expected)


# Nodes on the network page at most, and nodes one expansion may add.
NETWORK_MAX_NODES = _env_number("NETWORK_MAX_NODES", env.int, 3000, lambda v: v > 0, "> 0")
NETWORK_EXPAND_MAX_NODES = _env_number(
    "NETWORK_EXPAND_MAX_NODES", env.int, 1000, lambda v: v > 0, "> 0"
)
# Paths: the longest chain searched, and the most entities one search may visit.
PATH_MAX_HOPS = _env_number("PATH_MAX_HOPS", env.int, 8, lambda v: 1 <= v <= 12, "1 to 12")
PATH_MAX_VISITED = _env_number("PATH_MAX_VISITED", env.int, 200_000, lambda v: v > 0, "> 0")
# Red flags: newly founded intermediaries.
FLAG_FOUNDED_AFTER = _checked(
    "FLAG_FOUNDED_AFTER",
    env.str("FLAG_FOUNDED_AFTER", default="2022-02-24"),
    lambda v: re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v) is not None,
    "a date, YYYY-MM-DD",
)
FLAG_INTERMEDIARY_COUNTRIES = _env_codes(
    "FLAG_INTERMEDIARY_COUNTRIES",
    ["KZ", "AM", "KG", "GE", "AE", "TR", "UZ"],
    "[A-Z]{2}",
    "ISO country codes, comma-separated",
)
FLAG_OWNER_NATIONALITIES = _env_codes(
    "FLAG_OWNER_NATIONALITIES", ["RU", "BY"], "[A-Z]{2}", "ISO country codes, comma-separated"
)
# Sensitive goods: HS chapters (2 digits) or headings (4 and more), comma-separated.
FLAG_SENSITIVE_HS = _env_codes(
    "FLAG_SENSITIVE_HS",
    ["85", "88", "90", "8542", "8517", "8526", "8806"],
    "[0-9]{2,10}",
    "HS codes of 2 to 10 digits, comma-separated",
)
# Round trips: B ships on to C within this many days of receiving from A.
FLAG_ROUND_TRIP_DAYS = _env_number(
    "FLAG_ROUND_TRIP_DAYS", env.int, 365, lambda v: v > 0, "a number of days > 0"
)
# Pass-through: the same HS heading out within N days, quantity or value equal within a
# relative tolerance (0.01 = 1%).
FLAG_PASS_THROUGH_DAYS = _env_number(
    "FLAG_PASS_THROUGH_DAYS", env.int, 30, lambda v: v > 0, "a number of days > 0"
)
FLAG_PASS_THROUGH_TOLERANCE = _env_number(
    "FLAG_PASS_THROUGH_TOLERANCE", env.float, 0.01, lambda v: 0 <= v < 1, "between 0 and 1"
)
# Trade surges: growth factor year over year, and the smallest base year worth comparing.
FLAG_SURGE_FACTOR = _env_number("FLAG_SURGE_FACTOR", env.float, 2.0, lambda v: v > 1, "> 1")
FLAG_SURGE_MIN_VALUE = _env_number(
    "FLAG_SURGE_MIN_VALUE", env.float, 50_000.0, lambda v: v >= 0, ">= 0"
)
# Sanctions matches by name: normalized-name similarity (pg_trgm) at least this, same country.
FLAG_SANCTIONS_NAME_SIMILARITY = _env_number(
    "FLAG_SANCTIONS_NAME_SIMILARITY", env.float, 0.9, lambda v: 0 < v <= 1, "in (0, 1]"
)
# Hits kept per detector and run, best first.
FLAG_MAX_HITS = _env_number("FLAG_MAX_HITS", env.int, 500, lambda v: v > 0, "> 0")
# Batch screening uploads.
SCREENING_MAX_ROWS = _env_number("SCREENING_MAX_ROWS", env.int, 1000, lambda v: v > 0, "> 0")
SCREENING_MAX_BYTES = _env_number(
    "SCREENING_MAX_BYTES", env.int, 2 * 1024 * 1024, lambda v: v > 0, "> 0"
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="casefile")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A task is acknowledged only when it finished, and re-queued when its worker dies mid-task;
# job rows count attempts so a task that kills its worker gives up (see investigations/jobs.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool process that grew past this (KiB of resident memory) is replaced after its task.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=524_288)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# The longest task (bulk imports) may run this long; tasks with longer limits raise at import.
LONGEST_TASK_SECONDS = 1800
# Redis re-delivers an unacknowledged message after the visibility timeout. It must outlast the
# longest task or a still-running task would be delivered twice. No task uses an ETA or
# countdown longer than a few minutes: long waits are scheduled in the database instead.
# Sending a message waits at most REDIS_TIMEOUT per try, with one retry (a pooled connection
# Redis closed is replaced by the retry): a send fails in about 0.2 s when nothing listens and
# about 2 s when Redis hangs, and the job row waits for the sweeper (investigations/jobs.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": LONGEST_TASK_SECONDS * 2,
    "socket_connect_timeout": REDIS_TIMEOUT,
    "socket_timeout": REDIS_TIMEOUT,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection around every task unless this is set;
# reusing it for up to 1,000 tasks saves a connection per task (~6 ms, bench/snapshots.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {"task": "investigations.sweep_jobs", "schedule": 60.0},
    "watched-pages": {"task": "evidence.enqueue_due_watches", "schedule": 300.0},
}
# A job row is re-enqueued by the sweeper when it has been pending or running this long.
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=LONGEST_TASK_SECONDS + 60)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)

# /healthz: how long the worker check waits for replies; how often the checks run (requests
# in between read the last result); the token that shows details to monitoring (empty: staff
# only). See newsroom/health.py.
HEALTHZ_WORKER_TIMEOUT = env.float("HEALTHZ_WORKER_TIMEOUT", default=1.0)
HEALTHZ_INTERVAL = env.float("HEALTHZ_INTERVAL", default=15.0)
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline scripts or styles anywhere: htmx is configured by a meta tag not to inject any.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    if env.bool("BEHIND_TLS_PROXY", default=True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
