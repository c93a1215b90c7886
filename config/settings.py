"""Settings, all driven by environment variables (see README, "Configuration").

Defaults give the embedded development platform: SQLite, a filesystem Celery broker
that needs no server, DEBUG on. Production sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY,
DATABASE_URL and REDIS_URL.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GOVMEDIA_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
# The local demo (`make run`): production-like (DEBUG off, whitenoise, the platform's
# own 403/404/500 pages) but served over plain HTTP on 127.0.0.1, with a secret key
# generated once and kept under the var directory. Never set behind a real host name.
LOCAL_DEMO = env_bool("GOVMEDIA_LOCAL_DEMO", False)


def _local_demo_key() -> str:
    import secrets

    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    _local_demo_key()
    if LOCAL_DEMO
    # Only ever used with DEBUG on; production refuses to start without its own key.
    else "dev-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
)
if not DEBUG and SECRET_KEY.startswith("dev-insecure"):
    raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "config.admin.GovMediaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "treebeard",
    "axes",
    "captcha",
    "csp",
    # The platform's own apps, in dependency order (nothing imports "upward").
    "common",
    "audit",
    "workcalendar",
    "accounts",
    "exportjobs",
    "notifications",
    "registry",
    "moderation",
    "inbox",
    # Supervision reads every app below it (activity, findings, sweeps, inspections,
    # rectification, events, dashboard); assessment scores what supervision observes.
    "supervision",
    "assessment",
    # Demo and scale-data commands: the top floor, importing the apps above.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.PasswordPolicyMiddleware",
    "common.middleware.SessionRefreshMiddleware",
    "common.middleware.BrokerUnavailableMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "audit.middleware.RequestContextMiddleware",
    # Axes last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# Plain widgets (inputs, selects) printed in Python, byte for byte as Django's
# templates print them; every other widget through the templates (issue 9).
FORM_RENDERER = "common.form_renderer.FastWidgetRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'govmedia.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for the writer instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# A read replica (streaming replication) for dashboards, lists and exports: reads
# opt in with common.db.replica_reads(); see README "Deployment".
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
READ_REPLICA_ENABLED = env_bool("READ_REPLICA_ENABLED", bool(DATABASE_REPLICA_URL))
DATABASE_ROUTERS = ["common.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker and cache -----------------------------------------------------------------
# The longest task's hard time limit (audit.verify_chain, exports, assessment jobs:
# 3600 s) plus a margin; tests/common/test_reliability.py checks every task against it.
CELERY_VISIBILITY_TIMEOUT = 3600 + 300
# A long job (export, score run) whose heartbeat is older than this is taken as lost
# (its worker died) and marked failed by the reapers, within minutes.
JOB_HEARTBEAT_STALE_SECONDS = int(os.environ.get("JOB_HEARTBEAT_STALE_SECONDS", "300"))
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task taken by a worker that dies is given to another after this long; it
    # must exceed the longest task's time limit (audit.verify_chain, 3600 s), or a
    # slow task would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "govmedia",
        }
    }
else:
    # The embedded default: kombu's filesystem transport needs no server.
    BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Exchange tables (remote control, pidbox); kombu's default is ./control.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
from config.schedule import CELERY_BEAT_SCHEDULE  # noqa: E402,F401

# Queues by kind, so workers scale out per queue (README, "Deployment"): sweeps are
# short and must run every minute, exports are long, ingestion is bursty. A worker
# started with `-Q celery,sweeps,exports,ingestion` (the Procfile's) serves them all.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "moderation.sweep_reposts": {"queue": "sweeps"},
    "moderation.notify_reposts_marked": {"queue": "sweeps"},
    "moderation.expire_approvals": {"queue": "sweeps"},
    "exportjobs.run": {"queue": "exports"},
    "registry.ledger_import_check": {"queue": "ingestion"},
    "registry.figures_rollup": {"queue": "sweeps"},
    "registry.counterfeit_file_check": {"queue": "ingestion"},
    "inbox.messages_import_check": {"queue": "ingestion"},
    # Collector deliveries (stored, answered 202), and WeChat callbacks.
    "inbox.drain_payloads": {"queue": "ingestion"},
    "inbox.process_raw_payload": {"queue": "ingestion"},
    # Platform traffic: WeChat customer-service sends wait on the network, not on CPU.
    "inbox.wechat_reply_send": {"queue": "ingestion"},
}
CELERY_QUEUES_ALL = "celery,sweeps,exports,ingestion"

# --- Uploaded spreadsheets (common/spreadsheets.py) ----------------------------------
# Checked before any parse; parsed only in a Celery task. Sized for the largest real
# import, a province's ledger (about 20,000 rows by 20 columns).
SPREADSHEET_MAX_BYTES = int(os.environ.get("SPREADSHEET_MAX_BYTES", 10 * 1024 * 1024))
SPREADSHEET_MAX_UNCOMPRESSED_BYTES = int(
    os.environ.get("SPREADSHEET_MAX_UNCOMPRESSED_BYTES", 50 * 1024 * 1024)
)
# Unpacked size over packed size of one part past 1 MB; real sheets stay under 30.
SPREADSHEET_MAX_RATIO = int(os.environ.get("SPREADSHEET_MAX_RATIO", "100"))
SPREADSHEET_MAX_PARTS = int(os.environ.get("SPREADSHEET_MAX_PARTS", "1000"))
SPREADSHEET_MAX_ROWS = int(os.environ.get("SPREADSHEET_MAX_ROWS", "25000"))
SPREADSHEET_MAX_COLUMNS = int(os.environ.get("SPREADSHEET_MAX_COLUMNS", "100"))
SPREADSHEET_MAX_CELLS = int(os.environ.get("SPREADSHEET_MAX_CELLS", "600000"))
# Address space a parse may add to its worker process (RLIMIT_AS, in the task).
SPREADSHEET_PARSE_MEMORY_MB = int(os.environ.get("SPREADSHEET_PARSE_MEMORY_MB", "512"))
# Time limits of the tasks that parse an upload (seconds).
SPREADSHEET_TASK_SOFT_SECONDS = int(os.environ.get("SPREADSHEET_TASK_SOFT_SECONDS", "540"))
SPREADSHEET_TASK_HARD_SECONDS = int(os.environ.get("SPREADSHEET_TASK_HARD_SECONDS", "600"))

# --- Exports (common/exports.py) ------------------------------------------------------
# Above this many rows an export runs as a Celery job (progress, download link)
# instead of inside the web request; the file is kept this many hours.
EXPORT_SYNC_MAX_ROWS = int(os.environ.get("EXPORT_SYNC_MAX_ROWS", "5000"))
EXPORT_TTL_HOURS = float(os.environ.get("EXPORT_TTL_HOURS", "24"))
# Totals of at least this many rows are cached this many seconds (common/paging.py).
COUNT_CACHE_MIN_ROWS = int(os.environ.get("COUNT_CACHE_MIN_ROWS", "10000"))
# The registry overview of a jurisdiction of at least COUNT_CACHE_MIN_ROWS accounts
# reads the roll-up (registry.RegistryFigures, recomputed every 5 minutes) while it is
# younger than this; older (the job stopped), the overview counts live again.
REGISTRY_FIGURES_MAX_AGE_SECONDS = int(
    os.environ.get("REGISTRY_FIGURES_MAX_AGE_SECONDS", "900")
)
COUNT_CACHE_SECONDS = int(os.environ.get("COUNT_CACHE_SECONDS", "60"))

# --- Authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Admin permissions from roles (accounts.scoping.ROLE_ADMIN_PERMISSIONS).
    "accounts.backends.RolePermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "accounts.passwords.CharacterClassValidator",
        "OPTIONS": {"min_classes": 3},
    },
    {"NAME": "accounts.passwords.PasswordHistoryValidator", "OPTIONS": {"depth": 5}},
]
# Password policy (accounts.passwords): days until a password must be changed (0: never).
PASSWORD_MAX_AGE_DAYS = int(os.environ.get("PASSWORD_MAX_AGE_DAYS", "90"))
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions end after 30 idle minutes: every request pushes the expiry forward.
SESSION_COOKIE_AGE = 30 * 60
# The session row is written only when it changes; SessionRefreshMiddleware touches
# a signed-in session at most once a minute, which saves it and moves its expiry
# SESSION_COOKIE_AGE on (the idle timeout, to within that minute). Sessions stay in
# the database (one primary-key read per request), so ending a session by deleting
# its row takes effect at once on every web node.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# Lockout: 5 failed attempts for one username FROM ONE ADDRESS lock that pair for 15
# minutes, so nobody can lock a person out from elsewhere. When a username fails from
# SECURITY_CAPTCHA_AFTER_ADDRESSES or more addresses within those 15 minutes, every
# sign-in for it must also answer a captcha (accounts.lockout).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
SECURITY_CAPTCHA_AFTER_ADDRESSES = int(os.environ.get("SECURITY_CAPTCHA_AFTER_ADDRESSES", "3"))
CAPTCHA_LENGTH = 5
CAPTCHA_TIMEOUT = 5  # minutes
AXES_RESET_ON_SUCCESS = True
# The lock lasts 15 minutes from the fifth failure; attempts during the lock do not
# extend it (axes' default would restart the 15 minutes on each one).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# Second factor (accounts.second_factor): always for the three administrators, staff
# and superusers; for other roles a SecondFactorRule row, else this default.
SECOND_FACTOR_DEFAULT_ROLES = env_list("SECOND_FACTOR_DEFAULT_ROLES", "supervisor")
OTP_TOTP_ISSUER = "GovMedia"

# --- API ------------------------------------------------------------------------------
# API tokens (django-rest-knox): stored hashed; idle expiry pushed on with use, and an
# absolute limit from issue; revoked on password change and deactivation.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=int(os.environ.get("API_TOKEN_IDLE_HOURS", "8"))),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=int(os.environ.get("API_TOKEN_MAX_DAYS", "30"))),
    "MIN_REFRESH_INTERVAL": 60,
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "common.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GovMedia API",
    # Name only what exists: each app that adds an area adds it here.
    "DESCRIPTION": (
        "Government new-media accounts: organizations and roles, the account registry "
        "(filings, ledger, credential custody), pre-publication review and repost "
        "directives, notifications and the audit trail. Errors share one schema "
        "(`Error`: code, detail, fields)."
    ),
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.openapi.postprocess",
    ],
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package: no CDN on government intranets.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `kind` or `status` field with different choices; name each
    # enum after its choices class so the schema (and `check --deploy`) stays clean.
    "ENUM_NAME_OVERRIDES": {
        "CommunicationIndexKindEnum": "assessment.indices.INDEX_KINDS",
        "OrgKindEnum": "accounts.models.OrgKind",
        "FilingKindEnum": "registry.models.FilingKind",
        "FilingStatusEnum": "registry.models.FilingStatus",
        "AccountStatusEnum": "registry.models.AccountStatus",
        "PostKindEnum": "moderation.models.PostKind",
        "PostStatusEnum": "moderation.models.PostStatus",
        "StepStatusEnum": "moderation.models.StepStatus",
        "RoleEnum": "accounts.models.Role",
        "ReviewRoleEnum": "moderation.models.ReviewRole",
    },
}

# --- Internationalization -------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# SECURITY: media is never served at MEDIA_URL (no route, not whitenoise, not the
# proxy): uploaded files are private and reach people only through scoped views that
# check who may see them (moderation:attachment_download, exports:download).
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("GOVMEDIA_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Attachments (common/uploads.py): the largest file accepted, checked by content.
UPLOAD_MAX_BYTES = int(os.environ.get("GOVMEDIA_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- E-mail (notifications are in-app; e-mail only where configured) ------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.locmem.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "govmedia@localhost")

# --- Security (production) ------------------------------------------------------------
if not DEBUG and not LOCAL_DEMO:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp): scripts only from our own static files, no
# plugins, no framing, forms post only to us. Styles allow inline attributes and
# blocks: progress bars set their width inline, and the context-free error pages
# (templates/standalone.html) carry their own <style>; CSS cannot run script.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- Audit trail ---------------------------------------------------------------------
# The chain's HMAC key: from the environment (a secret store) or a key file outside the
# database, created on first use. The head is anchored to an append-only file.
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "")
AUDIT_HMAC_KEY_FILE = os.environ.get("AUDIT_HMAC_KEY_FILE", str(VAR_DIR / "keys" / "audit-hmac.key"))
# Personal data (phone numbers) at rest: the encryption key, outside the database
# (common/pii.py). Keep it, or its file, out of database backups, and never lose it.
PII_KEY = os.environ.get("PII_KEY", "")
PII_KEY_FILE = os.environ.get("PII_KEY_FILE", str(VAR_DIR / "keys" / "pii.key"))
AUDIT_ANCHOR_FILE = os.environ.get("AUDIT_ANCHOR_FILE", str(VAR_DIR / "audit" / "anchors.jsonl"))

# --- Working-day calendar -------------------------------------------------------------
# Office hours used when counting working hours between two instants (Asia/Shanghai).
WORKCALENDAR_OFFICE_HOURS = [("08:30", "12:00"), ("14:00", "17:30")]

# --- Registry ------------------------------------------------------------------------
# Filing is due within this many working days of the event (DOMAIN.md rule 32);
# an organization may override it for its subtree (registry.FilingPolicy).
REGISTRY_FILING_DUE_WORKING_DAYS = int(os.environ.get("REGISTRY_FILING_DUE_WORKING_DAYS", "5"))
# Staffing minimum per account by the sponsoring organization's level (rule 5).
REGISTRY_MIN_OPERATORS = {"province": 2, "city": 2, "county": 1, "township": 1}
# Working days to change an account's credentials after an operator's role ends.
REGISTRY_ROTATION_DUE_WORKING_DAYS = 3
# Filing kinds the sponsoring unit's principal leader signs off in the system before
# the supervising organization decides them (DOMAIN.md rule 8: opening and closing).
REGISTRY_LEADER_SIGNOFF_KINDS = ("open", "cancel")
# Days without a post after which an account is idle (rule 23) and goes on the
# clean-up list (rule 31); an organization may override both for its subtree
# (registry.ActivityPolicy, read by registry.selectors.activity_thresholds_for).
REGISTRY_IDLE_DAYS = 15
REGISTRY_CLEANUP_DAYS = 90

# --- Inbox (citizen messages) ---------------------------------------------------------
# Fernet keys (comma-separated, urlsafe base64 of 32 bytes; the first encrypts) for the
# WeChat tokens and AES keys the inbox stores. Development derives one from the secret
# key; production sets INBOX_FERNET_KEYS (never stored in the database).
INBOX_FERNET_KEYS = [
    k.strip() for k in os.environ.get("INBOX_FERNET_KEYS", "").split(",") if k.strip()
] or [__import__("base64").urlsafe_b64encode(
    __import__("hashlib").sha256(("inbox-fernet:" + SECRET_KEY).encode()).digest()
).decode()]
# Collector batches: at most this many messages per request.
INBOX_BATCH_MAX = 500
# Collector deliveries are stored and answered 202 (unless sent with `Prefer:
# return=representation`); the drain (inbox.drain_payloads) makes up to this many
# messages per transaction. The first delivery of each debounce
# interval schedules one drain for the interval's end.
INBOX_DRAIN_BATCH = int(os.environ.get("INBOX_DRAIN_BATCH", "500"))
INBOX_DRAIN_DEBOUNCE_SECONDS = 1
# Largest payload (bytes) a collector or WeChat may send.
INBOX_PAYLOAD_MAX_BYTES = 2 * 1024 * 1024
# Breached messages escalate to the supervisor this many hours after the liaison.
INBOX_ESCALATE_SUPERVISOR_AFTER_HOURS = 24
# Satisfaction below this rate (percent) names the organization in the metrics.
INBOX_SATISFACTION_FLOOR = 85

# --- Supervision ----------------------------------------------------------------------
# Idle accounts (DOMAIN.md rules 23, 28, 31): idle after this many days without a post,
# warned this many days in, on the clean-up list after this many. The one place these
# defaults live (supervision.policy reads them; per-organization policies override).
# How many days before an account goes idle (under its organization's activity policy,
# registry.ActivityPolicy / REGISTRY_IDLE_DAYS) the sweep warns it.
SUPERVISION_IDLE_WARN_AHEAD_DAYS = int(os.environ.get("SUPERVISION_IDLE_WARN_AHEAD_DAYS", "3"))
# Rectification orders are due this many days after issue (rule 34).
SUPERVISION_RECTIFICATION_DAYS = int(os.environ.get("SUPERVISION_RECTIFICATION_DAYS", "10"))
# Inspection window: the days before the check time an account must have posted in.
SUPERVISION_INSPECTION_WINDOW_DAYS = 14
# PostgreSQL work_mem for a sweep's one-pass diff (SET LOCAL, that transaction only):
# the staffing diff over 200,000 accounts hashes ~150,000 rows and spills to disk
# at the server's default of 4 MB.
SUPERVISION_SWEEP_WORK_MEM = os.environ.get("SUPERVISION_SWEEP_WORK_MEM", "64MB")
# A day-over-day follower rise above both limits is flagged for review (rule 7).
SUPERVISION_FOLLOWER_JUMP_RATIO = 0.5
SUPERVISION_FOLLOWER_JUMP_MIN = 5000
# Monthly partitions of the activity and metric tables created ahead by the job.
SUPERVISION_PARTITION_MONTHS_AHEAD = 3

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# drf-spectacular reports API views whose schema it has to guess (9 x W001, 2 x W002
# after the session-2 merge: the inbox, supervision and assessment views added then).
# They degrade the OpenAPI document, not the API; silenced so `check --deploy` guards
# the security settings, and listed in the stop note as work for the API contract.
SILENCED_SYSTEM_CHECKS = ["drf_spectacular.W001", "drf_spectacular.W002"]
