"""Settings, read from the environment (a ``.env`` file beside manage.py is read if present)."""

import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from ecommerce.remote import parse_remote_apps
from ecommerce.routers import app_databases

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")

INSTALLED_APPS = [
    "ecommerce.apps.ShopAdminConfig",  # django.contrib.admin under the shop's name
    "ecommerce",  # before django.contrib.auth: its createsuperuser and migrate know every app's database
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "outbox",
    "accounts",
    "inventory",
    "catalog",
    "cart",
    "orders",
    "payments",
    "privacy",
    "storefront",
]

# Which apps' URLs this process serves (accounts, catalog, inventory, cart, orders, payments, privacy, admin,
# storefront), for running apps apart behind a gateway. Unset: all of them, in one process.
SERVE_APPS = env_list("SERVE_APPS", "accounts,catalog,inventory,cart,orders,payments,privacy,admin,storefront")
# Which apps /api/schema and /api/docs describe: unset, those this process serves; the process a gateway sends
# /api to names every app behind the gateway, so that the gateway's schema describes the whole API.
SCHEMA_APPS = env_list("SCHEMA_APPS", "") or None
# Apps that run in another process: ``app=base URL`` pairs (e.g. "payments=http://127.0.0.1:8103"). Their public
# functions are then called over HTTP (ecommerce.remote), with SERVICE_TOKEN, the credential every process of
# one shop shares; a process serves /internal/<app>/... for its own apps only when SERVICE_TOKEN is set.
REMOTE_APPS = parse_remote_apps(os.environ.get("REMOTE_APPS", ""))
SERVICE_TOKEN = os.environ.get("SERVICE_TOKEN", "")
REMOTE_TIMEOUT_SECONDS = float(os.environ.get("REMOTE_TIMEOUT_SECONDS", "10"))
REMOTE_RETRIES = int(os.environ.get("REMOTE_RETRIES", "3"))
# Events between processes (outbox.broker): with a broker URL (e.g. amqp://guest:guest@127.0.0.1:5672//) the
# relay publishes pending events to it, and `consume_events` applies each process's own; exchange and queues
# are named after EVENT_BROKER_PREFIX.
EVENT_BROKER_URL = os.environ.get("EVENT_BROKER_URL", "")
EVENT_BROKER_PREFIX = os.environ.get("EVENT_BROKER_PREFIX", "shop")

MIDDLEWARE = [
    "ecommerce.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "ecommerce.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ecommerce.security.StaffSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ecommerce.urls"
WSGI_APPLICATION = "ecommerce.wsgi.application"
# API routes answer with and without a trailing slash themselves; HTML pages (admin, shop) live at
# paths ending in "/", and the slashless form of those redirects there.
APPEND_SLASH = True
# API routes begin with "/" on purpose (ecommerce.urlpatterns: "^/?$" takes both forms of a path).
SILENCED_SYSTEM_CHECKS = ["urls.W002"]

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
                "storefront.context_processors.cart_units",
            ],
        },
    },
]

# A kept connection is not pinged (``SELECT 1``) before each request's first query: that round trip cost a
# cached product page a fifth of its time. After a database restart, each worker's first query on its old
# connection fails instead: that request is a 503 ``database_unavailable`` with Retry-After (as any request
# during the outage), and the worker connects afresh for the next one. DB_CONN_HEALTH_CHECKS=true pings.
DB_CONN_HEALTH_CHECKS = env_bool("DB_CONN_HEALTH_CHECKS")
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=DB_CONN_HEALTH_CHECKS,
    )
}
# One database unless APP_DATABASES places apps on their own (e.g. "*=postgres://db/shop_{app}").
for _alias, _url in app_databases(os.environ.get("APP_DATABASES", "")).items():
    DATABASES[_alias] = dj_database_url.parse(
        _url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=DB_CONN_HEALTH_CHECKS
    )
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # The embedded database takes concurrent writers (several gunicorn workers): WAL lets readers go on
        # while one transaction writes; every transaction takes the write lock when it begins (IMMEDIATE),
        # so a reader never has to upgrade to a writer and fail with "database is locked"; writers queue
        # for up to `timeout` seconds. Writes are serialized, which is what SQLite can do.
        _database.setdefault("OPTIONS", {}).update(
            timeout=20,
            transaction_mode="IMMEDIATE",
            init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        )
DATABASE_ROUTERS = ["ecommerce.routers.AppDatabaseRouter"]

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that is down or stuck costs a request at most this long (rate limits then fail open).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    # Shared by every gunicorn worker, unlike the per-process memory cache.
    CACHES = {"default": {"BACKEND": "ecommerce.cache.DatabaseCache", "LOCATION": "cache_table"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
# Per-account limit on failed logins (API, shop and admin alike): after this many failures within
# LOGIN_LOCKOUT_MINUTES, logins to that email are refused (429 `login_locked`) for LOGIN_LOCKOUT_MINUTES.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.ShopCommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads (product pictures) go through the "default" storage: files under MEDIA_ROOT, at MEDIA_URL. Another
# backend (e.g. django-storages' S3) is a matter of STORAGES["default"]; see the README's "Product pictures".
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
# The app itself serves MEDIA_URL from the default storage (ecommerce.views.media), unless a front server or
# a CDN does: then set SERVE_MEDIA=false.
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
# Other origins the shop's pages may show pictures from (a CDN or bucket serving the media), for the CSP's img-src.
CSP_IMG_SOURCES = env_list("CSP_IMG_SOURCES")
PRODUCT_IMAGE_MAX_BYTES = int(os.environ.get("PRODUCT_IMAGE_MAX_BYTES", str(5 * 1024 * 1024)))
# Decompression-bomb defence: a picture's header may claim at most this many pixels (checked before decoding).
PRODUCT_IMAGE_MAX_PIXELS = int(os.environ.get("PRODUCT_IMAGE_MAX_PIXELS", "25000000"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # 1 MiB: no legitimate request body is larger

# Security: production defaults, relaxed only with DEBUG on.
# How many reverse proxies of ours stand in front of the app. 0 (the default): the app faces clients
# directly, so X-Forwarded-For and X-Forwarded-Proto are client-controlled and ignored; rate limits key
# on the connection's address. N: the N-th address from the right of X-Forwarded-For is the client, and
# the proxy's X-Forwarded-Proto is trusted (the proxy must overwrite both headers).
NUM_PROXIES = int(os.environ.get("NUM_PROXIES", "0"))
if NUM_PROXIES < 0:
    raise ImproperlyConfigured("NUM_PROXIES must be 0 (no proxy) or the number of trusted proxies.")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if NUM_PROXIES else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
# Staff sessions (admin, shop) end after this long idle, and this long after login whatever the activity.
STAFF_SESSION_IDLE_MINUTES = int(os.environ.get("STAFF_SESSION_IDLE_MINUTES", "30"))
STAFF_SESSION_MAX_HOURS = int(os.environ.get("STAFF_SESSION_MAX_HOURS", "12"))
X_FRAME_OPTIONS = "DENY"

# Email: the console by default (development); SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # implicit TLS (port 465)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)  # STARTTLS (port 587)
EMAIL_TIMEOUT = 10
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", "")  # for EMAIL_BACKEND=django.core.mail.backends.filebased...
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Shop <shop@localhost>")

# Business settings
SHOP_NAME = os.environ.get("SHOP_NAME", "Shop")
# The shop's address in the links of account emails (e.g. https://shop.example.com); unset, the address the
# request came to (a Host header ALLOWED_HOSTS accepted). Set it in production: links never follow the client.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")
PASSWORD_RESET_TIMEOUT = 60 * 60  # seconds a password reset link works (once)
EMAIL_VERIFICATION_TIMEOUT = 3 * 24 * 60 * 60  # seconds an email verification link works (once)
ADMIN_SITE_HEADER = os.environ.get("ADMIN_SITE_HEADER", SHOP_NAME)
LOW_STOCK_THRESHOLD = int(os.environ.get("LOW_STOCK_THRESHOLD", "5"))  # the admin flags products at or below it
# Internal tables, shown in the admin to superusers only ("app_label" / "app_label.model").
ADMIN_SUPERUSER_ONLY_APPS = ["token_blacklist", "ecommerce"]
ADMIN_SUPERUSER_ONLY_MODELS = ["payments.webhookevent"]
STORE_CURRENCY = os.environ.get("STORE_CURRENCY", "usd").lower()
RESERVATION_TTL_MINUTES = int(os.environ.get("RESERVATION_TTL_MINUTES", "30"))
# Caps on one customer's unpaid orders holding stock (checkout answers 409 `too_many_pending_orders`,
# `reserved_units_limit`), so that nobody can hold the shop's stock with orders they never pay.
MAX_PENDING_ORDERS = int(os.environ.get("MAX_PENDING_ORDERS", "5"))
MAX_RESERVED_UNITS = int(os.environ.get("MAX_RESERVED_UNITS", "1000"))
# Declined payment attempts an order takes before POST /payment refuses it (409 `payment_attempts_exhausted`,
# nothing sent to the provider): a defence against card testing.
MAX_DECLINED_PAYMENTS_PER_ORDER = int(os.environ.get("MAX_DECLINED_PAYMENTS_PER_ORDER", "5"))
# Pages and emails show times in this zone (an IANA name, e.g. Europe/Paris); the API stays in UTC.
STORE_TIME_ZONE = os.environ.get("STORE_TIME_ZONE", "UTC")
try:
    ZoneInfo(STORE_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"STORE_TIME_ZONE {STORE_TIME_ZONE!r} is not a time zone name.") from exc
IDEMPOTENCY_KEY_TTL_HOURS = 24
# A request holding an Idempotency-Key that has not finished after this long may be taken over by a retry
# (its worker may have died); taking over is safe, since the first attempt then cannot record its outcome.
IDEMPOTENCY_LEASE_SECONDS = int(os.environ.get("IDEMPOTENCY_LEASE_SECONDS", "10"))
# Delivered events between apps (the outbox) are kept this long, for inspection, then `purge_events` deletes them.
OUTBOX_KEEP_DAYS = int(os.environ.get("OUTBOX_KEEP_DAYS", "7"))
# How long a deliverer holds an event: after a crash, the relay delivers its events once this has run out.
OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", "60"))
# What a request that met an unreachable database answers in Retry-After.
DATABASE_RETRY_AFTER_SECONDS = int(os.environ.get("DATABASE_RETRY_AFTER_SECONDS", "2"))
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")  # the shop's card form uses Stripe Elements
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "10"))
PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "stripe" if STRIPE_SECRET_KEY else "dummy")
# The dummy gateway takes no money: with DEBUG off the server refuses to start with it unless it is
# asked for (a demo such as `make run`); see ecommerce/checks.py.
ALLOW_DUMMY_GATEWAY = env_bool("ALLOW_DUMMY_GATEWAY")
# `manage.py ensure_demo_staff` (make run) creates a demo superuser only with DEBUG on or this set.
ALLOW_DEMO_STAFF = env_bool("ALLOW_DEMO_STAFF")

REST_FRAMEWORK = {
    # Stateless (the caller from the token's claims), refusing at once a revoked session's tokens: accounts.tokens.
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.tokens.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["ecommerce.renderers.CamelCaseJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "ecommerce.renderers.JSONContentNegotiation",
    "DEFAULT_PARSER_CLASSES": ["ecommerce.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "ecommerce.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "ecommerce.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    # Per client (auth) and per user (checkout, payment attempts): 429 `throttled` with Retry-After.
    "DEFAULT_THROTTLE_RATES": {
        "auth": os.environ.get("AUTH_THROTTLE_RATE", "10/min"),
        "checkout": os.environ.get("CHECKOUT_THROTTLE_RATE", "20/min"),
        "payment": os.environ.get("PAYMENT_THROTTLE_RATE", "10/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "COERCE_DECIMAL_TO_STRING": True,
    # No OPTIONS introspection (405): the schema documents the API; CORS preflights are the middleware's.
    "DEFAULT_METADATA_CLASS": None,
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "ecommerce.api.DomainAwareExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "ecommerce.api.CamelCaseExceptionFormatter",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
}

# HS256 key of the JWTs; SECRET_KEY unless set. HS256 needs at least 256 bits (RFC 7518, 3.2): with DEBUG
# off the server refuses to start with a key under 32 characters, and `check --deploy` warns below 50.
JWT_SIGNING_KEY = os.environ.get("JWT_SIGNING_KEY", SECRET_KEY)

# A session (a password sign-in) ends this long after it began, however often its refresh token is rotated.
REFRESH_TOKEN_MAX_AGE_DAYS = int(os.environ.get("REFRESH_TOKEN_MAX_AGE_DAYS", "30"))

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ALGORITHM": "HS256",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_USER_CLASS": "ecommerce.auth.ClaimsUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "E-commerce API",
    "DESCRIPTION": "Products, stock, carts, orders and payments. JSON is camelCase; errors share one envelope.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/",
    "CAMELIZE_NAMES": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "ecommerce.schema.strip_trailing_slashes",
        "ecommerce.schema.document_response_headers",
        "ecommerce.schema.nullable_references",
    ],
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "orders.models.OrderStatus.choices"},
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "deepLinking": True, "displayRequestDuration": True},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}
