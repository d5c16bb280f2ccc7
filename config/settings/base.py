"""Settings for every environment, read from the environment (see .env.example).

The defaults are the production ones and are safe: DEBUG off, secure cookies, HSTS and a
Content Security Policy. The demo and test modules only set environment defaults and import
this module.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = [h for h in env.list("ALLOWED_HOSTS", default=[]) if h]
CSRF_TRUSTED_ORIGINS = [o for o in env.list("CSRF_TRUSTED_ORIGINS", default=[]) if o]
# The public base URL of this dashboard: used in set-password links and provider callbacks.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "django_scopes",
    "core",
    "accounts",
    "providers",
    "numbers",
    "messaging",
    "calls",
    "billing",
    "console",
    "api",
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # /hooks/ (provider callbacks) stops here: nothing below serves a machine's POST.
    "providers.middleware.ProviderCallbackMiddleware",
    # /a1/ and /api/v1/ (the tenant API) stop here too: keys, not sessions (api.middleware).
    "api.middleware.ApiMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Oversized bodies get a 413 from their Content-Length before the CSRF check reads them.
    "core.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.TenantMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "accounts.context_processors.tenancy",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if "sqlite" in DATABASES["default"]["ENGINE"]:
    # The demo's threads write at once (requests, and webhooks drained in the request):
    # IMMEDIATE takes the write lock at BEGIN, so a writer waits its turn instead of failing
    # with "database is locked" when a read transaction tries to become a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
# Off by default: the check is a SELECT 1 before every request's first query (measured: -28%
# on webhook ingestion), and persistent connections are recycled by CONN_MAX_AGE anyway.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Seconds a cache call may wait on Redis: a dead or unreachable Redis then fails fast and the
# callers' fallbacks answer (the sign-in throttle counts in the database meanwhile).
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=0.5)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_timeout": CACHE_SOCKET_TIMEOUT,
                "socket_connect_timeout": CACHE_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.TenantAwareBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttle: failures per account and per address within the window.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)

LANGUAGE_CODE = "en"
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Switchboard <noreply@localhost>")

# Secrets at rest (subaccount secrets, API keys): Fernet keys, newest first. Older keys only
# decrypt; `manage.py rotate_encryption_key` re-encrypts everything with the newest.
FIELD_ENCRYPTION_KEYS = [k for k in env.list("FIELD_ENCRYPTION_KEY") if k.strip()]

# 46elks
ELKS_API_URL = env.str("ELKS_API_URL", default="https://api.46elks.com/a1").rstrip("/")
ELKS_USERNAME = env.str("ELKS_USERNAME", default="")
ELKS_PASSWORD = env.str("ELKS_PASSWORD", default="")
ELKS_TIMEOUT = env.float("ELKS_TIMEOUT", default=10.0)
# Staff pages call /me with a short timeout so a slow provider cannot hold the page.
ELKS_PAGE_TIMEOUT = env.float("ELKS_PAGE_TIMEOUT", default=3.0)
ELKS_DEFAULT_CURRENCY = env.str("ELKS_DEFAULT_CURRENCY", default="SEK")

# Infobip (numbers). Without a base URL and key the Infobip pages say "not configured".
INFOBIP_BASE_URL = env.str("INFOBIP_BASE_URL", default="").rstrip("/")
INFOBIP_API_KEY = env.str("INFOBIP_API_KEY", default="")
INFOBIP_TIMEOUT = env.float("INFOBIP_TIMEOUT", default=10.0)
# Infobip serves the numbers API under /numbers/1/numbers; older accounts used /sms/1/numbers.
INFOBIP_NUMBERS_PREFIX = env.str("INFOBIP_NUMBERS_PREFIX", default="/numbers/1/numbers")

# Numbers
# How long a rotated webhook token keeps working, so in-flight provider retries still land.
HOOK_TOKEN_OVERLAP_SECONDS = env.int("HOOK_TOKEN_OVERLAP_SECONDS", default=6 * 3600)
# A rental left pending this long without showing up at the provider is marked not rented.
NUMBER_PENDING_GIVE_UP_SECONDS = env.int("NUMBER_PENDING_GIVE_UP_SECONDS", default=3600)

# Webhooks
# Handlers for stored provider events are registered by each app (providers/events.py);
# kinds without one stay pending.
# A handler's transient error (database, network) is retried after 30 s, 1, 2, 4 … minutes
# (at most an hour apart, picked up by the drains and the beat's replay), this many attempts
# in all (~3 hours); then, like any other error, the event fails and waits for staff.
WEBHOOK_RETRY_ATTEMPTS = env.int("WEBHOOK_RETRY_ATTEMPTS", default=10)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=3600.0)
# The wake window (providers/wake.py): one drain task per window, however many events
# arrive; its drain keeps looking until the window closes.
WEBHOOK_WAKE_SECONDS = env.float("WEBHOOK_WAKE_SECONDS", default=1.0)
# Each web process keeps the number behind a callback token this long (0: never), so a
# burst of callbacks does not query it per request; docs/bench.md measures the gain.
HOOK_NUMBER_CACHE_SECONDS = env.float("HOOK_NUMBER_CACHE_SECONDS", default=10.0)
# The callback store's INSERT as a prepared statement (PostgreSQL). Turn off behind a
# transaction-mode pooler without prepared-statement support (PgBouncer before 1.21).
WEBHOOK_PREPARED_INSERT = env.bool("WEBHOOK_PREPARED_INSERT", default=True)
if WEBHOOK_PREPARED_INSERT and "postgresql" in DATABASES["default"]["ENGINE"]:
    # psycopg prepares nothing while prepare_threshold is None (Django's default). Django's
    # own cursors bind client-side and are never prepared, so only the store's cursor is.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
# When set, only these addresses may post callbacks (46elks publishes its own).
WEBHOOK_ALLOWED_IPS = [ip for ip in env.list("WEBHOOK_ALLOWED_IPS", default=[]) if ip]
# Proxies whose X-Forwarded-For is believed (the address they saw is then the client).
TRUSTED_PROXIES = [ip for ip in env.list("TRUSTED_PROXIES", default=[]) if ip]

# Messaging
# Estimate shown while typing: 46elks' price per SMS part (1/10000); a dry run gives the exact.
SMS_PART_ESTIMATE = env.int("SMS_PART_ESTIMATE", default=3500)
# Price per SMS part by destination prefix (the longest matching prefix wins), 1/10000 of the
# currency, and for every other destination; campaign estimates sum these per recipient.
# The defaults are the sandbox's table: set them to your 46elks price list.
SMS_PART_PRICES = env.json(
    "SMS_PART_PRICES",
    default={"+46": 3500, "+47": 4700, "+358": 5200, "+45": 4200, "+44": 3800, "+1": 900},
)
SMS_PART_PRICE_OTHER = env.int("SMS_PART_PRICE_OTHER", default=6500)
# 46elks' price of one MMS as we assume it until the real cost is reported (reservations and
# estimates of plans that list no MMS price), 1/10000 of the currency.
MMS_COST_ESTIMATE = env.int("MMS_COST_ESTIMATE", default=5000)
# Click-to-call reserves, for each of its two legs (your phone, then the customer), the plan's
# price of a call of this many minutes (connection fee included) before 46elks is asked;
# hang-up settles the real price. A plan without a listed minute price is quoted its markup
# over CALL_MINUTE_COST_ESTIMATE (46elks' price per minute, 1/10000) per minute.
CALL_RESERVE_MINUTES = env.int("CALL_RESERVE_MINUTES", default=10)
CALL_MINUTE_COST_ESTIMATE = env.int("CALL_MINUTE_COST_ESTIMATE", default=4500)
# A click-to-call still holding its reservation this long after it was placed (no hang-up,
# not in 46elks' history) gives it back.
CALL_RESERVATION_MAX_SECONDS = env.int("CALL_RESERVATION_MAX_SECONDS", default=6 * 3600)
MMS_MAX_BYTES = env.int("MMS_MAX_BYTES", default=1_000_000)
# Request bodies (core/uploads.py): form fields without files are limited by Django
# (DATA_UPLOAD_MAX_MEMORY_SIZE); uploaded files above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temp
# file instead of memory; any body larger than REQUEST_MAX_BYTES (or, for a view marked
# @upload_limit, its file limit plus 256 KiB for the other fields) is answered 413 unread.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=1_048_576)
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE + 256 * 1024)
# Inbound MMS images: download attempts (with backoff, ~3 hours for 8) before giving up.
MMS_IMAGE_MAX_ATTEMPTS = env.int("MMS_IMAGE_MAX_ATTEMPTS", default=8)
# Customer webhooks: attempts with backoff for this long, then give up.
CUSTOMER_WEBHOOK_RETRY_HOURS = env.int("CUSTOMER_WEBHOOK_RETRY_HOURS", default=24)
CUSTOMER_WEBHOOK_TIMEOUT = env.float("CUSTOMER_WEBHOOK_TIMEOUT", default=5.0)
# How long the signed image links in an `mms.received` post stay valid.
MMS_IMAGE_URL_DAYS = env.int("MMS_IMAGE_URL_DAYS", default=7)
# Only for tests: allow customer webhook URLs that resolve to private addresses.
CUSTOMER_WEBHOOK_ALLOW_PRIVATE = env.bool("CUSTOMER_WEBHOOK_ALLOW_PRIVATE", default=False)
# Ports a customer webhook URL may name (checked when saved and again at each post). Staff can
# widen it for a customer whose receiver listens elsewhere, e.g. "80,443,8443".
CUSTOMER_WEBHOOK_ALLOWED_PORTS = env.list(
    "CUSTOMER_WEBHOOK_ALLOWED_PORTS", cast=int, default=[80, 443]
)

# Campaigns: the provider's send limit shared by all workers (messages per second), and
# the lease on claimed recipients: a worker renews it every third of it, so a claim not
# renewed for this long belongs to a dead worker (never-attempted rows go back to the queue
# and the campaign resumes on the next tick). Keep it well above ELKS_TIMEOUT.
CAMPAIGN_PROVIDER_RATE = env.int("CAMPAIGN_PROVIDER_RATE", default=20)
CAMPAIGN_CLAIM_BATCH = env.int("CAMPAIGN_CLAIM_BATCH", default=200)
CAMPAIGN_SENDING_LEASE_SECONDS = env.int("CAMPAIGN_SENDING_LEASE_SECONDS", default=30)
# A send attempted without an answer that 46elks' history still lacks this long after the
# attempt was never accepted, and is sent again.
CAMPAIGN_RECONCILE_AFTER_SECONDS = env.int("CAMPAIGN_RECONCILE_AFTER_SECONDS", default=60)

# One message's send (messaging.lifecycle): the worker's lease on its claim (keep it well
# above ELKS_TIMEOUT), how long after an unanswered attempt 46elks' history is taken as the
# truth, and what then becomes of a send it does not list: "failed" (the person sees it and
# may send again) or "resend" (queued again, sent once more).
MESSAGE_SENDING_LEASE_SECONDS = env.int("MESSAGE_SENDING_LEASE_SECONDS", default=60)
MESSAGE_RECONCILE_AFTER_SECONDS = env.int("MESSAGE_RECONCILE_AFTER_SECONDS", default=120)
MESSAGE_UNSENT_AFTER_RECONCILE = env.str("MESSAGE_UNSENT_AFTER_RECONCILE", default="failed")

# Steps of `manage.py provider_sync` and the periodic sync, in order.
PROVIDER_SYNC_STEPS = [
    "console.sync.sync_subaccounts",
    "numbers.sync.sync_numbers",
]

# Celery
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# Every task runs on one of five queues (declared in config/celery_app.py), so a long task on
# one cannot delay another's: a campaign task holds its worker for minutes, and inbound SMS
# and delivery reports must still be processed within seconds. `make worker` starts one
# worker per group; tests/test_celery_routes.py fails for a task that has no route here.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # Provider callbacks: inbound SMS/MMS, delivery reports, calls (latency-critical).
    "providers.tasks.webhooks_drain": {"queue": "webhooks"},
    "providers.tasks.webhooks_replay": {"queue": "webhooks"},
    # One-off sends a person is waiting for.
    "messaging.tasks.messages_send": {"queue": "sending"},
    "messaging.tasks.outbox_sweep": {"queue": "sending"},
    "messaging.tasks.messages_recover": {"queue": "sending"},
    # Bulk work that holds a worker for minutes: campaign runs and contact imports.
    "messaging.tasks.campaign_run": {"queue": "campaigns"},
    "messaging.tasks.contact_import_run": {"queue": "campaigns"},
    # Pulls from providers (paged, can be slow).
    "accounts.tasks.provider_sync": {"queue": "sync"},
    "console.tasks.usage_refresh": {"queue": "default"},
    "messaging.tasks.history_sync": {"queue": "sync"},
    "calls.tasks.history_sync": {"queue": "sync"},
    # Short periodic jobs and downloads. The campaign tick is here, not on `campaigns`: it
    # resumes campaigns whose worker died, so it must not wait behind campaign runs.
    "messaging.tasks.campaigns_tick": {"queue": "default"},
    "messaging.tasks.imports_sweep": {"queue": "default"},
    "messaging.tasks.retention": {"queue": "default"},
    "messaging.tasks.customer_webhooks_due": {"queue": "default"},
    "messaging.tasks.mms_images_*": {"queue": "default"},
    "calls.tasks.recording*": {"queue": "default"},
    "numbers.tasks.quarantine_expire": {"queue": "default"},
    "numbers.tasks.number_months": {"queue": "default"},
    "console.tasks.traffic_rollup": {"queue": "default"},
    # Billing: spend alerts, the 46elks backstop, the master balance, reconciliation.
    "billing.tasks.alerts_check": {"queue": "default"},
    "billing.tasks.backstop_raise": {"queue": "sync"},
    "billing.tasks.master_balance_check": {"queue": "sync"},
    "billing.tasks.reconcile": {"queue": "sync"},
    "billing.invoices.tasks.invoices_draft_due": {"queue": "default"},
    "billing.tasks.usage_squash": {"queue": "default"},
    "billing.tasks.snapshot_prune": {"queue": "default"},
    # The tenant API: forget idempotent answers after 24 h and old request-log rows.
    "api.tasks.api_prune": {"queue": "default"},
}
# The API request log (the portal's API page) keeps this many days.
API_REQUEST_LOG_DAYS = env.int("API_REQUEST_LOG_DAYS", default=30)
USAGE_REFRESH_SECONDS = env.int("USAGE_REFRESH_SECONDS", default=60)
# A usage snapshot (billing.UsageSnapshot) at most this often per tenant: periods are measured
# between snapshots, and a refresh a minute must not write 1,440 rows a day per tenant.
USAGE_SNAPSHOT_SECONDS = env.int("USAGE_SNAPSHOT_SECONDS", default=300)
CELERY_BEAT_SCHEDULE = {
    "api-prune": {"task": "api.tasks.api_prune", "schedule": crontab(minute=41)},
    "provider-sync": {"task": "accounts.tasks.provider_sync", "schedule": crontab(minute="*/5")},
    # Spend and limits only: no page shows 46elks' figure older than this.
    "usage-refresh": {
        "task": "console.tasks.usage_refresh",
        "schedule": float(USAGE_REFRESH_SECONDS),
    },
    "webhooks-replay": {"task": "providers.tasks.webhooks_replay", "schedule": 60.0},
    # Recover before the outbox sweep: a dead worker's never-attempted claim is queued again.
    "messages-recover": {"task": "messaging.tasks.messages_recover", "schedule": 30.0},
    "messages-outbox": {"task": "messaging.tasks.outbox_sweep", "schedule": 60.0},
    "messages-history-sync": {"task": "messaging.tasks.history_sync", "schedule": 300.0},
    "messages-retention": {"task": "messaging.tasks.retention", "schedule": crontab(minute=17)},
    "campaigns-tick": {"task": "messaging.tasks.campaigns_tick", "schedule": 15.0},
    "imports-sweep": {"task": "messaging.tasks.imports_sweep", "schedule": 60.0},
    "mms-images-sweep": {"task": "messaging.tasks.mms_images_sweep", "schedule": 60.0},
    "customer-webhooks": {"task": "messaging.tasks.customer_webhooks_due", "schedule": 30.0},
    "recordings-due": {"task": "calls.tasks.recordings_due", "schedule": 60.0},
    "recordings-retention": {
        "task": "calls.tasks.recordings_retention",
        "schedule": crontab(minute=41, hour=3),
    },
    "calls-history-sync": {"task": "calls.tasks.history_sync", "schedule": 300.0},
    "numbers-quarantine-expire": {
        "task": "numbers.tasks.quarantine_expire",
        "schedule": crontab(minute="*"),
    },
    # Each active number's new month is rated once (idempotent by its source key): daily, so a
    # month is billed within a day of its start in any tenant's time zone.
    "number-months": {"task": "numbers.tasks.number_months", "schedule": crontab(minute=5, hour=0)},
    # Chart rollups of today and yesterday (console.traffic.services).
    "traffic-rollup": {"task": "console.tasks.traffic_rollup", "schedule": 60.0},
    # Spend alerts: one cheap pass a minute over accounts with spend (billing.alerts).
    "billing-alerts": {"task": "billing.tasks.alerts_check", "schedule": 60.0},
    # The 46elks backstop follows each tenant's period start (billing.backstop); hourly, so
    # every time zone's midnight on the 1st is caught within the hour.
    "billing-backstop": {"task": "billing.tasks.backstop_raise", "schedule": crontab(minute=3)},
    "billing-master-balance": {
        "task": "billing.tasks.master_balance_check",
        "schedule": crontab(minute="*/15"),
    },
    "billing-reconcile": {
        "task": "billing.tasks.reconcile",
        "schedule": crontab(minute=30, hour=4),
    },
    # Drafts last month's invoices and statements; idempotent, so any day may run it again.
    # At noon UTC on the 1st the month is over in every time zone (UTC-12 to UTC+14).
    "invoice-drafting": {
        "task": "billing.invoices.tasks.invoices_draft_due",
        "schedule": crontab(minute=0, hour=12, day_of_month=1),
    },
    "usage-squash": {"task": "billing.tasks.usage_squash", "schedule": 60.0},
    "snapshot-prune": {
        "task": "billing.tasks.snapshot_prune",
        "schedule": crontab(minute=23, hour=2),
    },
}
# The subaccount's `usagelimit` at 46elks is a backstop above the local limit (billing.backstop).
BILLING_BACKSTOP_RATIO = env.float("BILLING_BACKSTOP_RATIO", default=1.2)
# Staff are alerted when the master account's balance (1/10000 units) falls below this.
BILLING_MASTER_BALANCE_FLOOR = env.int("BILLING_MASTER_BALANCE_FLOOR", default=1_000_000)
# Reconciliation flags a month whose rated cost and 46elks' movement differ by more than this.
BILLING_RECONCILE_TOLERANCE_BP = env.int("BILLING_RECONCILE_TOLERANCE_BP", default=100)
# The reseller as it appears on invoices (seller details; snapshotted on each issued invoice).
BILLING_COMPANY = env.json(
    "BILLING_COMPANY",
    default={
        "name": "Switchboard Reseller AB",
        "address": "Storgatan 1\n111 22 Stockholm\nSweden",
        "org_number": "556000-0000",
        "vat_number": "SE556000000001",
        "bank": "Bankgiro 000-0000",
        "email": "billing@switchboard.example",
        "payment_terms_days": 30,
    },
)
PROVIDER_SYNC_LOCK_SECONDS = env.int("PROVIDER_SYNC_LOCK_SECONDS", default=10 * 60)

# Security: safe by default; the demo turns DEBUG on, which relaxes only what needs HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
