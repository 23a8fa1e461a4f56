"""Settings for the 知財経営支援 CRM, driven by environment variables.

Unset variables give the embedded stack (SQLite in var/, a filesystem Celery
broker in var/celery/, a local-memory cache), so a fresh clone runs with no
server installed. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CRM_VAR_DIR", str(BASE_DIR / "var")))

INSECURE_SECRET_KEY = "insecure-development-key-change-me"
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", INSECURE_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

# Third-party apps with a Japanese admin section name are listed by their
# config.apps class (same label, same behaviour).
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "config.apps.KnoxConfig",  # API tokens with a lifetime (support_network/tokens.py)
    "config.apps.OtpConfig",  # second factor (TOTP + recovery codes, support_network/mfa.py)
    "config.apps.OtpTotpConfig",
    "config.apps.OtpStaticConfig",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "config.apps.CeleryBeatConfig",
    "config.apps.AxesConfig",  # before crm: its login-failure receiver runs before the audit one
    "csp",
    "support_network",
    "crm",
    "programs",
    "seeds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # NUL, lone surrogates and dates outside 1900–2100 in query strings and
    # web forms: 400 naming the field (JSON under /api/), before any view.
    "config.input_cleaning.InputCleaningMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "django.contrib.messages.middleware.MessageMiddleware",
    # A rule refused in a web view (DomainError): its Japanese error page.
    "support_network.middleware.DomainErrorPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A session of a user with TOTP must have passed the code step; members
    # of CRM_MFA_REQUIRED_ROLES without a device are sent to /account/mfa/.
    "support_network.web.mfa.MfaMiddleware",
    # Last: turns a login refused by django-axes into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "support_network.context_processors.acting_organisation",
                "crm.web.context_processors.referral_nav",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # JIT compilation costs 20–30 ms on the statistics aggregates and
        # pays back only on queries running for seconds; the app has none.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = env_str(
            "DJANGO_DB_OPTIONS", "-c jit=off"
        )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # WAL lets the web process, the worker and beat share the file.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
# The statistics facts' covering indexes (INCLUDE columns, crm 0006–0009) are
# a PostgreSQL optimisation; SQLite builds them without the extra columns and
# answers the same. Its models.W040 warning on every start of the embedded
# stack says nothing an operator can act on, so it is silenced there only.
SILENCED_SYSTEM_CHECKS = (
    ["models.W040"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery broker ---------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery"
if CELERY_BROKER_URL == "filesystem://":
    for sub in ("out", "processed"):
        (CELERY_FILESYSTEM_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "out"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "out"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "store_processed": False,
        # kombu 5.7 keeps its exchange table in ./control by default: keep
        # it under var/ with the messages, not in the working directory.
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task's hard time limit, so an unacked task is not
        # redelivered while it still runs (acks_late).
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis host that does not answer (not only a refused
            # connection) must not hold a request: the rate limits fail
            # open after this long (config/throttling.py, README
            # "Reliability").
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_ENABLE_UTC = True
# acks_late + reject_on_worker_lost: a task whose worker dies is redelivered,
# never lost; every task is idempotent (state lives in our tables).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False
# Periodic tasks. DatabaseScheduler (django-celery-beat 2.9) writes these
# entries into its PeriodicTask table on every beat start (update_or_create by
# name, schedulers.py `setup_schedule` → `update_from_dict`), where the admin
# can see and disable them; a schedule edited in the admin is reset to this one
# at the next beat start, while "enabled" is kept. Run exactly one beat.
CELERY_BEAT_SCHEDULE = {
    # Monthly statistics report to managers (crm/services/monthly_report.py):
    # daily at 07:00 JST; the service mails only on the first business day of
    # the month, once per manager.
    "crm.monthly_report": {
        "task": "crm.monthly_report",
        "schedule": crontab(hour=7, minute=0),  # JST
        "options": {"expires": 12 * 3600},
    },
    "crm.reminders_sweep": {
        "task": "crm.reminders_sweep",
        "schedule": 300.0,  # seconds; reminders live in the database, not ETAs
        "options": {"expires": 290},  # a backlog of sweeps collapses into one
    },
    # Weekly digest of what is overdue and stalled, per coordinator
    # (crm/services/digest.py); once per ISO week whatever the re-runs.
    "crm.coordinator_digest": {
        "task": "crm.coordinator_digest",
        "schedule": crontab(hour=8, minute=0, day_of_week="mon"),  # JST
        "options": {"expires": 6 * 3600},
    },
    # Re-queues export builds whose worker died (heartbeat silent) or whose
    # message was lost, so each finishes or fails within minutes
    # (crm/exports/sweeps.py exports_reclaim).
    "crm.exports_reclaim": {
        "task": "crm.exports_reclaim",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Deletes export files and rows past their 7 days; re-queues lost builds
    # (crm/exports/sweeps.py exports_cleanup).
    "crm.exports_cleanup": {
        "task": "crm.exports_cleanup",
        "schedule": crontab(hour=3, minute=30),  # JST, daily
        "options": {"expires": 6 * 3600},
    },
    # Retention sweep (保存期間, crm/services/retention.py): anonymises the
    # personal data of cases whose retention period ended; idempotent.
    "crm.retention_apply": {
        "task": "crm.retention_apply",
        "schedule": crontab(hour=2, minute=15),  # JST, daily
        "options": {"expires": 12 * 3600},
    },
}

# Reminder rules (issue 5 "Rules"): the defaults live in
# support_network/reminder_rules.py DEFAULT_RULES; keys set here override
# them for the whole network, and an organisation may override any of them
# in its `reminder_rules` (admin → 組織; checked by the same module).
CRM_REMINDERS: dict = {}
# Absolute links in notification e-mails: the address users open the CRM at.
# The default follows PORT (scripts/run.sh serves 127.0.0.1:$PORT), so mail
# links of `PORT=8765 scripts/run.sh` point at :8765, not :8000.
CRM_SITE_URL = env_str("CRM_SITE_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}")

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Set-password links (invitation and reset, Django's default_token_generator)
# work once and for this long.
PASSWORD_RESET_TIMEOUT = 3600 * env_int("CRM_PASSWORD_LINK_HOURS", 72)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- i18n -------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("英語"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
# One date and one datetime spelling, 2026/12/9 and 2026/12/9 14:05, in
# every language (config/formats/, docs/dates.md).
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static files (served by the app itself: agencies' networks are closed) --
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# Export files (xlsx/CSV) built by crm.export_build; kept 7 days.
EXPORT_DIR = Path(env_str("CRM_EXPORT_DIR", str(VAR_DIR / "exports")))

# --- E-mail ---------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "crm@example.invalid")
# SMTP (DJANGO_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend).
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10)

# --- REST framework -------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "support_network.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.KeysetPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "知財経営支援 CRM API",
    "DESCRIPTION": "知財経営支援ネットワークの案件管理 API (public interface, see API.md)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.add_error_responses",
    ],
    # One schema name per choice set (`check --deploy` runs the schema
    # generator and warns about colliding or duplicate enum names).
    "ENUM_NAME_OVERRIDES": {
        "IpTypeEnum": "crm.choices.IpType",
        "CompanyKindEnum": "crm.choices.CompanyKind",
        "OutcomeKindEnum": "crm.choices.OutcomeKind",
        "CaseStatusEnum": "crm.choices.CaseStatus",
        "ReferralStatusEnum": "crm.choices.ReferralStatus",
        "FollowUpStatusEnum": "crm.choices.FollowUpStatus",
        "EnrolmentStatusEnum": "programs.choices.EnrolmentStatus",
        "ExportKindEnum": "crm.models.Export.Kind",
        "EventKindEnum": "crm.choices.EventKind",
        "ImportKindEnum": "crm.models.Import.Kind",
        "ImportStatusEnum": "crm.models.Import.Status",
    },
}

# --- Logging ----------------------------------------------------------------
# DJANGO_LOG_FORMAT=json: one JSON object per line (config/log.py) for log
# collectors in production; "plain" (default) for people reading a terminal.
LOG_FORMAT = env_str("DJANGO_LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT must be plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.log.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}

# --- Security (production values come from the environment) -----------------
# With DEBUG off every switch below defaults to the HTTPS production posture
# (`manage.py check --deploy` is clean); with DEBUG on (the embedded default,
# plain http on 127.0.0.1) they are off. Each can be set on its own.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (only then).
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG
)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Number of reverse proxies in front of the app that append to
# X-Forwarded-For. 0: the client address is REMOTE_ADDR and the header,
# which any client can forge, is ignored (login lockout and API rate limits).
PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)

# Content Security Policy (django-csp 4): scripts and styles only from our
# own static files; no inline <script>, no on*= handlers, no style=
# attributes, no eval (htmx runs with allowEval off, see base.html). The
# Swagger UI at /api/docs/ adds what it needs on that view alone
# (config/api.py ApiDocsView).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for
# one username from one address, that pair is locked out for the cool-off
# time (web login, admin and POST /api/v1/auth/token/ alike). Keyed on the
# pair, so an office behind one NAT address is not locked out by one user.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out pairs
    "support_network.auth.AddressLockoutBackend",  # per-address ceiling
    "django.contrib.auth.backends.ModelBackend",
    # Sessions opened by single sign-on (support_network/oidc.py); it never
    # takes a username and password.
    "support_network.oidc.SsoBackend",
]
# Single sign-on (OpenID Connect per organisation, support_network/services/sso.py):
# the clock skew allowed on the ID token's exp / iat / nbf.
CRM_SSO_CLOCK_SKEW_SECONDS = env_int("CRM_SSO_CLOCK_SKEW_SECONDS", 60)
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
# Failed logins from one address (any usernames) that lock the address out
# for the cool-off: against password spraying; 0 turns it off.
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout; attempts during it do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True  # crm.AuditEvent is the login trail
AXES_VERBOSE = False  # no start-up banner on every manage.py command
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_COOLOFF_MESSAGE = _(
    "ログインの失敗が続いたため、一時的にログインできません。"
    "しばらく待ってからもう一度お試しください。"
)
AXES_PERMALOCK_MESSAGE = _(
    "ログインの失敗が続いたため、ログインできません。組織管理者に連絡してください。"
)
AXES_CLIENT_IP_CALLABLE = "config.api.client_ip"  # honours DJANGO_PROXY_COUNT

# API tokens (django-rest-knox, support_network/tokens.py): `Authorization:
# Token <token>`, stored hashed, valid CRM_API_TOKEN_TTL_HOURS (10 hours by
# default); revoked by POST auth/token/revoke/, a password change, the
# user's deactivation and the end of their last active membership.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("CRM_API_TOKEN_TTL_HOURS", 10)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# Second factor (django-otp TOTP + recovery codes, support_network/mfa.py):
# members with one of these roles in any active membership must enrol
# before using the site ("" turns the requirement off; a user who has
# enrolled is always asked for a code at login).
CRM_MFA_REQUIRED_ROLES = env_list("CRM_MFA_REQUIRED_ROLES", ["org_admin", "manager"])
OTP_TOTP_ISSUER = "知財経営支援 CRM"

# Per-user API rate limits (DRF throttling; 429 with a Japanese detail and
# Retry-After). Generous defaults: a busy window or an integration stays far
# below them, a runaway script does not.
# Counted atomically; while the cache (Redis) is down they let requests
# through and log a warning (config/throttling.py). `login` is auth/token/
# per address, apart from other anonymous requests.
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "config.throttling.UserRateThrottle",
    "config.throttling.AnonRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "user": env_str("DJANGO_API_RATE_USER", "10000/hour"),
    "anon": env_str("DJANGO_API_RATE_ANON", "1000/hour"),
    "login": env_str("DJANGO_API_RATE_LOGIN", "3000/hour"),
}
REST_FRAMEWORK["NUM_PROXIES"] = PROXY_COUNT
# Bad input is a 400, never a 500 (found by the schemathesis fuzzing):
# bodies with NUL characters, filters of the wrong type (config/api_input.py).
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "config.api_input.JSONParser",
    "config.api_input.FormParser",
    "config.api_input.MultiPartParser",
]
REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"] = ["config.api_input.FilterBackend"]
