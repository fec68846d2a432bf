"""Allied settings: one module, every deployment choice read from the environment.

Production mode (``ALLIED_DEBUG`` unset or false) refuses to start without a strong
``ALLIED_SECRET_KEY`` and vault keys, and turns on every browser security header.
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("ALLIED_VAR_DIR", BASE_DIR / "var"))

DEBUG = env_bool("ALLIED_DEBUG")

DEVELOPMENT_SECRET_KEY = "allied-development-secret-key-never-use-in-production"
DEVELOPMENT_VAULT_KEY = "YWxsaWVkLWRldmVsb3BtZW50LXZhdWx0LWtleS0wMDA="
INSECURE_SECRET_MARKERS = ("django-insecure", "change-me", "changeme", "secret", DEVELOPMENT_SECRET_KEY)

SECRET_KEY = os.environ.get("ALLIED_SECRET_KEY", "")
VAULT_KEYS = env_list("ALLIED_VAULT_KEYS")

if DEBUG:
    SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY
    VAULT_KEYS = VAULT_KEYS or [DEVELOPMENT_VAULT_KEY]
else:
    if (
        len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
        or any(marker in SECRET_KEY.lower() for marker in INSECURE_SECRET_MARKERS)
    ):
        raise ImproperlyConfigured(
            "ALLIED_SECRET_KEY is missing or insecure. Production mode needs a random value of at "
            "least 50 characters (python -c 'import secrets; print(secrets.token_urlsafe(64))'), "
            "or set ALLIED_DEBUG=1 for local development."
        )
    if not VAULT_KEYS or DEVELOPMENT_VAULT_KEY in VAULT_KEYS:
        raise ImproperlyConfigured(
            "ALLIED_VAULT_KEYS is missing. Production mode needs one or more comma-separated Fernet "
            "keys, the current one first (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )

ALLOWED_HOSTS = env_list("ALLIED_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("ALLIED_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "allied.core",
    "allied.accounts",
    "allied.privacy",
    "allied.couriers",
    "allied.catalog",
    "allied.inventory",
    "allied.orders",
    "allied.fulfillment",
    "allied.delivery",
    "allied.integrations",
    "allied.website",
    "allied.accounts.admin_site.AlliedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "django_tasks_db",
    "crontask",
    "ninja",
]

MIDDLEWARE = [
    "allied.core.middleware.RequestContextMiddleware",
    "allied.core.middleware.ApiRequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Requests to the REST API (/api/) skip from here to the view: the rest is for pages.
    "allied.core.middleware.ApiShortcutMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allied.privacy.middleware.ConsentMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allied.accounts.middleware.ActiveMembershipMiddleware",
    "allied.accounts.middleware.RequireMfaMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allied.core.middleware.DomainErrorPageMiddleware",
    "allied.core.middleware.ApiShortcutExitMiddleware",
]

ROOT_URLCONF = "allied.urls"
WSGI_APPLICATION = "allied.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "src" / "allied" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "allied.accounts.context_processors.membership",
                "allied.privacy.context_processors.notice_changed",
            ],
        },
    }
]

# Databases -----------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'allied.sqlite3'}",
        conn_max_age=int(os.environ.get("ALLIED_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "allied.core.db.sqlite3"  # writers queue on a file lock
    DATABASES["default"]["OPTIONS"] = {
        # Django's SQLite backend already turns foreign keys on for every connection.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": int(os.environ.get("ALLIED_SQLITE_BUSY_TIMEOUT", "20")),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Only the lean statements of the hot path are prepared (allied.core.sql, server-side
            # binding); the ORM binds on the client. Their plans do not depend on the values, so
            # plan them once. A pooler in front must support prepared statements (PgBouncer >= 1.21).
            "prepare_threshold": 5,
            "options": "-c plan_cache_mode=force_generic_plan",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: rate limits must hold across processes, so the fallback is the database. The limits on
# public reads (tracking lookups) are the exception: a GET writes nothing to the database, so
# without Redis each server process counts them in its own memory, and a client gets at most
# ALLIED_WEB_WORKERS times the limit per window.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    REDIS_CACHE = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    CACHES = {"default": REDIS_CACHE, "read_limits": REDIS_CACHE}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "allied_cache"},
        "read_limits": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "read-limits"},
    }

# Background work -------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
CRONTASK = {"REDIS_URL": REDIS_URL or None}
# A RUNNING task whose worker has not sent a heartbeat for this long is re-queued by the reaper.
ALLIED_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("ALLIED_WORKER_HEARTBEAT_SECONDS", "10"))
ALLIED_WORKER_LOST_AFTER_SECONDS = float(os.environ.get("ALLIED_WORKER_LOST_AFTER_SECONDS", "60"))
ALLIED_TASK_RUNNING_TIMEOUT_SECONDS = float(os.environ.get("ALLIED_TASK_RUNNING_TIMEOUT_SECONDS", "1800"))
# The outbox relay (core/outbox.py), run by every `allied worker`.
ALLIED_OUTBOX_POLL_SECONDS = float(os.environ.get("ALLIED_OUTBOX_POLL_SECONDS", "0.5"))
ALLIED_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("ALLIED_OUTBOX_MAX_ATTEMPTS", "12"))
ALLIED_OUTBOX_RETRY_BASE_SECONDS = float(os.environ.get("ALLIED_OUTBOX_RETRY_BASE_SECONDS", "10"))
ALLIED_OUTBOX_RETRY_MAX_SECONDS = float(os.environ.get("ALLIED_OUTBOX_RETRY_MAX_SECONDS", "3600"))
ALLIED_OUTBOX_HTTP_TIMEOUT_SECONDS = float(os.environ.get("ALLIED_OUTBOX_HTTP_TIMEOUT_SECONDS", "10"))
ALLIED_OUTBOX_RETENTION_DAYS = int(os.environ.get("ALLIED_OUTBOX_RETENTION_DAYS", "30"))
# Requests to third-party APIs (stores, couriers: core/outbound.py); how often each store is reconciled.
ALLIED_OUTBOUND_HTTP_TIMEOUT = float(os.environ.get("ALLIED_OUTBOUND_HTTP_TIMEOUT", "15"))
ALLIED_STORE_POLL_MINUTES = int(os.environ.get("ALLIED_STORE_POLL_MINUTES", "10"))  # a missed webhook: < 15 min
# A store is told about stock changes at most this often (changes in between go in one push).
ALLIED_STOCK_PUSH_SECONDS = int(os.environ.get("ALLIED_STOCK_PUSH_SECONDS", "30"))
# A stop that failed this many delivery attempts goes back to its sender on its own.
ALLIED_MAX_DELIVERY_ATTEMPTS = int(os.environ.get("ALLIED_MAX_DELIVERY_ATTEMPTS", "3"))
# A day's plan of 5 s or more searches from this many seeds side by side, one core each, and keeps
# the best. One by default: on the 2-core machine measured, two searches on a 1,000-stop day each
# ran at about 60 % of one alone and planned worse; on 100 stops they planned better
# (docs/benchmarks.md, Routing).
ALLIED_PLANNER_SEARCHES = max(1, int(os.environ.get("ALLIED_PLANNER_SEARCHES", "1")))
# A third party's API address -> where it answers instead: local fakes in development and tests only
# (JSON: {"https://shop.example": "http://127.0.0.1:8765"}).
ALLIED_API_ORIGINS: dict[str, str] = json.loads(os.environ.get("ALLIED_API_ORIGINS") or "{}")
# Partners' webhook endpoints must be https://; plain http to this machine (127.0.0.1, localhost)
# only where this is on (development and tests, by default).
ALLIED_WEBHOOKS_ALLOW_LOCAL_HTTP = env_bool("ALLIED_WEBHOOKS_ALLOW_LOCAL_HTTP", DEBUG)

# The rider app: what proves a delivery, per partner (JSON: {"partner-slug": "signature"}), one of
# name, signature, photo or code; partners not named need the recipient's name.
PROOF_LEVEL_CHOICES = ("name", "signature", "photo", "code")
ALLIED_PROOF_LEVELS: dict[str, str] = json.loads(os.environ.get("ALLIED_PROOF_LEVELS") or "{}")
ALLIED_PROOF_LEVEL_DEFAULT = os.environ.get("ALLIED_PROOF_LEVEL_DEFAULT", "name")
if {ALLIED_PROOF_LEVEL_DEFAULT, *ALLIED_PROOF_LEVELS.values()} - set(PROOF_LEVEL_CHOICES):
    raise ImproperlyConfigured(f"ALLIED_PROOF_LEVELS: each level is one of {', '.join(PROOF_LEVEL_CHOICES)}.")
ALLIED_PROOF_PHOTO_MAX_BYTES = int(os.environ.get("ALLIED_PROOF_PHOTO_MAX_BYTES", str(5 * 1024 * 1024)))

# Accounts ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "allied.accounts.adapter.AlliedAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Allied] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Allied"
MFA_ADAPTER = "allied.accounts.adapter.AlliedMfaAdapter"
INVITATION_VALID_DAYS = 7
ALLIED_BASE_URL = os.environ.get("ALLIED_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Recipients of the last mile (delivery/notifications.py, delivery/views/tracking.py) -----------
# Where text messages go: a class of allied.core.sms (the console one logs them; development).
# Coordinates for addresses that come without them (delivery/geocoding.py); the default places none.
ALLIED_GEOCODER = os.environ.get("ALLIED_GEOCODER", "allied.delivery.geocoding.NoGeocoder")
ALLIED_SMS_BACKEND = os.environ.get("ALLIED_SMS_BACKEND", "allied.core.sms.ConsoleSmsBackend")
# A partner's own wording, per organization slug and message kind (out_for_delivery, delivered,
# attempt_failed; "<kind>.email" for the e-mail body): Django template text (JSON).
ALLIED_RECIPIENT_MESSAGES: dict[str, dict[str, str]] = json.loads(os.environ.get("ALLIED_RECIPIENT_MESSAGES") or "{}")
# The public tracking page: lookups per client address and window (seconds), then 429.
ALLIED_TRACKING_LOOKUPS = int(os.environ.get("ALLIED_TRACKING_LOOKUPS", "30"))
ALLIED_TRACKING_WINDOW_SECONDS = int(os.environ.get("ALLIED_TRACKING_WINDOW_SECONDS", "600"))
# One-time codes to change a delivery: how many a stop may be sent per hour, and from one address.
ALLIED_RECIPIENT_CODES_PER_STOP_HOUR = int(os.environ.get("ALLIED_RECIPIENT_CODES_PER_STOP_HOUR", "3"))
ALLIED_RECIPIENT_CODES_PER_ADDRESS_HOUR = int(os.environ.get("ALLIED_RECIPIENT_CODES_PER_ADDRESS_HOUR", "10"))
# The public website's forms: submissions per client address and window; a form sent sooner than the
# minimum after it was shown is a robot's, one older than the maximum is stale. Leads never won are
# deleted this many days after their last change (the privacy engine's retention job).
ALLIED_LEAD_SUBMISSIONS = int(os.environ.get("ALLIED_LEAD_SUBMISSIONS", "5"))
ALLIED_LEAD_WINDOW_SECONDS = int(os.environ.get("ALLIED_LEAD_WINDOW_SECONDS", "3600"))
ALLIED_FORM_MIN_SECONDS = float(os.environ.get("ALLIED_FORM_MIN_SECONDS", "3"))
ALLIED_FORM_MAX_SECONDS = int(os.environ.get("ALLIED_FORM_MAX_SECONDS", str(2 * 3600)))
ALLIED_LEAD_RETENTION_DAYS = int(os.environ.get("ALLIED_LEAD_RETENTION_DAYS", "365"))
# Days no hub delivers (ISO weekdays, 1 = Monday … 7 = Sunday): a recipient cannot move a stop there.
ALLIED_HUB_CLOSED_WEEKDAYS = [int(day) for day in env_list("ALLIED_HUB_CLOSED_WEEKDAYS")]

# Privacy: whether Do Not Track counts as a refusal of optional cookies (the published notice says
# which), how long requests may take, and when technical data (IP addresses) is cut short.
ALLIED_HONOUR_DNT = env_bool("ALLIED_HONOUR_DNT", False)
ALLIED_PRIVACY_REQUEST_DAYS = int(os.environ.get("ALLIED_PRIVACY_REQUEST_DAYS", "30"))
ALLIED_TECHNICAL_DATA_DAYS = int(os.environ.get("ALLIED_TECHNICAL_DATA_DAYS", "30"))

# Mail: Django 6.1 MAILERS. SMTP in production (a local MTA unless ALLIED_SMTP_HOST says otherwise);
# the console in development unless an SMTP host is given.
DEFAULT_FROM_EMAIL = os.environ.get("ALLIED_MAIL_FROM", "Allied <no-reply@allied.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if os.environ.get("ALLIED_SMTP_HOST") or not DEBUG:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("ALLIED_SMTP_HOST", "localhost"),
                "port": int(os.environ.get("ALLIED_SMTP_PORT", "587" if os.environ.get("ALLIED_SMTP_HOST") else "25")),
                "username": os.environ.get("ALLIED_SMTP_USER", ""),
                "password": os.environ.get("ALLIED_SMTP_PASSWORD", ""),
                "use_tls": env_bool("ALLIED_SMTP_TLS", bool(os.environ.get("ALLIED_SMTP_HOST"))),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

# Internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ar", "العربية"), ("ur", "اردو"), ("fr", "Français")]
TIME_ZONE = os.environ.get("ALLIED_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Security -----------------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    # Swagger UI and htmx set style attributes; scripts stay nonce-only.
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    # The dispatcher board's map tiles (the map is an enhancement: the board works without them).
    "img-src": [CSP.SELF, "data:", "https://tile.openstreetmap.org"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("ALLIED_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("ALLIED_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Error reports (the DEBUG page, mails to admins) and log lines never show a secret's plaintext.
DEFAULT_EXCEPTION_REPORTER = "allied.core.error_reports.SecretSafeExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "allied.core.error_reports.SecretSafeExceptionReporterFilter"

# Logging: JSON lines in production, readable lines in development, secrets redacted in both.
LOG_LEVEL = os.environ.get("ALLIED_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": "allied.core.logging.StructuredFormatter",
            "json": env_bool("ALLIED_LOG_JSON", not DEBUG),
        }
    },
    "filters": {"secrets": {"()": "allied.core.secret_masking.SecretMaskingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured", "filters": ["secrets"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "apscheduler": {"level": "WARNING"},
    },
}
