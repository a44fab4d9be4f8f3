"""Calling another app's public functions when that app runs in another process (``REMOTE_APPS``).

One place decides local versus remote: when the process starts, ``install`` replaces each public function
(listed in ``<app>.services.__all__``) of every app named in ``REMOTE_APPS`` with a stub that calls the
owning process. Call sites keep writing ``inventory.reserve_stock(...)``: unset, every call stays in process.

The owning process answers on ``POST /internal/<app>/<function>`` (``internal_urlpatterns``), mounted only
for the apps it serves and only when ``SERVICE_TOKEN`` is set. The gateway never routes ``/internal``; a
request without the service credential (compared in constant time) is refused. Arguments and results
travel as tagged JSON (``encode``/``decode``): plain values, ``Decimal`` and datetimes exactly, and only
the frozen dataclasses and domain errors an app lists in its ``__all__``; an error raised by the owner
is raised again, as the same class, on the caller's side.

Each logical call carries an ``Idempotency-Key``, the same on every retry (timeouts, dropped
connections, 502/503/504, a call still running). The owner remembers the answer per key
(``ecommerce.idempotency``), so a retry gets the first answer instead of reserving, charging or
refunding again; questions (``READS``) are simply answered again.
"""

import base64
import dataclasses
import datetime
import functools
import hashlib
import hmac
import importlib
import inspect
import json
import logging
import threading
import time
import uuid
from decimal import Decimal

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, JsonResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ecommerce.errors import DomainError
from ecommerce.logs import current_request_id

logger = logging.getLogger(__name__)

# The apps whose public module can run in another process.
REMOTE_CAPABLE_APPS = ("accounts", "inventory", "catalog", "cart", "orders", "payments")
# Public functions that configure the local process and so always run here (a port installed at start-up).
# What crosses the wire: those apps' public modules, and the outbox's (events pushed to the app that handles them).
WIRE_MODULES = (*REMOTE_CAPABLE_APPS, "outbox")
LOCAL_ONLY = {"orders": {"provide_refunder"}}
# Public functions that answer a question: run again, they change nothing (reading an order may cancel it once
# it is past its expiry, and a second run finds it cancelled). The owner keeps no answer per key for them, which
# saves two writes per call; a retry simply asks again. Every other function's answer is kept per key.
READS = {
    "accounts": {"get_user", "get_users", "get_address", "list_addresses", "require_verified_email"},
    "catalog": {
        "get_products",
        "get_active_product",
        "get_product_for_sale",
        "get_product_images",
        "find_products",
        "list_categories",
        "list_product_images",
    },
    "inventory": {"get_stock_level", "get_stock_levels", "get_available_stock", "list_stock_movements"},
    "cart": {"get_cart", "count_units", "price_lines"},
    "orders": {"get_order", "get_payable_order", "get_amount_due", "get_order_statuses", "list_shipping_options"},
    "payments": {"list_payments", "list_user_payments"},
}
TOKEN_HEADER = "X-Service-Token"
RETRY_STATUSES = {409, 502, 503, 504}  # 409: the first attempt of this key is still running


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    default_message = "A part of the shop did not answer in time. Try again shortly."


class UnsafeValue(ValueError):
    """A value that may not cross the wire (a class outside the apps' public surfaces)."""


def parse_remote_apps(value: str) -> dict[str, str]:
    """``REMOTE_APPS``: comma-separated ``app=base URL`` pairs, e.g. ``payments=http://127.0.0.1:8103``."""
    remote = {}
    for pair in filter(None, (item.strip() for item in value.split(","))):
        app, separator, url = pair.partition("=")
        if not separator or app not in REMOTE_CAPABLE_APPS or not url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"REMOTE_APPS: {pair!r} is not app=http(s)://host:port, app one of {', '.join(REMOTE_CAPABLE_APPS)}."
            )
        remote[app] = url.rstrip("/")
    return remote


# --- the wire format --------------------------------------------------------------------------------------


def _public_module(app: str):
    if app not in WIRE_MODULES:
        raise UnsafeValue(f"{app!r} is not an app with a public surface")
    return importlib.import_module(f"{app}.services")


def _wire_name(cls: type) -> str:
    """How a class is named on the wire: ``app.Name`` (in the app's ``__all__``) or ``ecommerce.module:Name``."""
    if cls.__module__.startswith("ecommerce."):  # the kernel's values and errors (PostalAddress, NotFound...)
        name = f"{cls.__module__}:{cls.__name__}"
    else:
        name = f"{cls.__module__.split('.')[0]}.{cls.__name__}"
    if _wire_class(name) is not cls:
        raise UnsafeValue(f"{cls.__module__}.{cls.__qualname__} is not public")
    return name


def _wire_class(name: str) -> type:
    """The class named ``name`` on the wire; UnsafeValue unless it is public."""
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        if not module_name.startswith("ecommerce."):
            raise UnsafeValue(f"{name} is not a kernel class")
        cls = getattr(importlib.import_module(module_name), attribute, None)
        public = inspect.isclass(cls) and cls.__module__ == module_name
    else:
        app, _, attribute = name.partition(".")
        module = _public_module(app)
        cls = getattr(module, attribute, None)
        public = attribute in module.__all__ and inspect.isclass(cls)
    if not public:
        raise UnsafeValue(f"{name} is not a public class")
    return cls


def encode(value):
    """A JSON-safe form of ``value`` that ``decode`` turns back into an equal value of the same types."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, set | frozenset):
        return {"$set": [encode(item) for item in value], "frozen": isinstance(value, frozenset)}
    if isinstance(value, dict):
        return {"$dict": [[encode(key), encode(item)] for key, item in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
        return {"$dataclass": _wire_name(type(value)), "fields": fields}
    raise UnsafeValue(f"{type(value).__name__} values do not cross the wire")


_SCALARS = {
    "$float": float,
    "$decimal": Decimal,
    "$datetime": datetime.datetime.fromisoformat,
    "$date": datetime.date.fromisoformat,
    "$uuid": uuid.UUID,
    "$bytes": base64.b64decode,
}


def decode(value):
    """The value ``encode`` wrote; UnsafeValue for a class that is not public or a malformed tag."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        raise UnsafeValue(f"unexpected {type(value).__name__}")
    tag = next((key for key in value if key.startswith("$")), None)
    if tag in _SCALARS:
        return _SCALARS[tag](value[tag])
    if tag == "$tuple":
        return tuple(decode(item) for item in value[tag])
    if tag == "$set":
        items = (decode(item) for item in value[tag])
        return frozenset(items) if value.get("frozen") else set(items)
    if tag == "$dict":
        return {decode(key): decode(item) for key, item in value[tag]}
    if tag == "$dataclass":
        cls = _wire_class(value[tag])
        if not dataclasses.is_dataclass(cls):
            raise UnsafeValue(f"{value[tag]} is not a dataclass")
        names = {field.name for field in dataclasses.fields(cls)}
        fields = value["fields"]
        if set(fields) - names:
            raise UnsafeValue(f"{value[tag]} has no fields {sorted(set(fields) - names)}")
        return cls(**{key: decode(item) for key, item in fields.items()})
    raise UnsafeValue(f"unknown tag {tag!r}")


def encode_error(error: DomainError) -> dict:
    return {
        "error": _wire_name(type(error)),
        "message": error.message,
        "attr": error.attr,
        "extra": encode(error.extra),
    }


def decode_error(body: dict) -> DomainError:
    cls = _wire_class(body["error"])
    if not issubclass(cls, DomainError):
        raise UnsafeValue(f"{body['error']} is not a domain error")
    return cls(body["message"], attr=body["attr"], extra=decode(body["extra"]))


# --- the caller's side ------------------------------------------------------------------------------------

_sessions = threading.local()


def _session() -> requests.Session:
    if not hasattr(_sessions, "session"):
        _sessions.session = requests.Session()
    return _sessions.session


class RemoteFunction:
    """Stands in for ``<app>.services.<name>``: the same call, answered by the process at ``base_url``."""

    def __init__(self, app: str, name: str, base_url: str, local):
        self.app, self.name, self.url = app, name, f"{base_url}/internal/{app}/{name}"
        functools.update_wrapper(self, local)

    def __call__(self, *args, **kwargs):
        body = json.dumps({"args": encode(list(args)), "kwargs": encode(kwargs)})
        headers = {
            "Content-Type": "application/json",
            TOKEN_HEADER: settings.SERVICE_TOKEN,
            "Idempotency-Key": uuid.uuid4().hex,  # one per logical call, the same on each retry
            "X-Request-ID": current_request_id.get() or uuid.uuid4().hex,
        }
        attempts = settings.REMOTE_RETRIES + 1
        for attempt in range(1, attempts + 1):
            try:
                response = _session().post(
                    self.url, data=body, headers=headers, timeout=(2, settings.REMOTE_TIMEOUT_SECONDS)
                )
            except requests.RequestException as exc:
                failure = repr(exc)
            else:
                if response.status_code == 200:
                    answer = response.json()
                    if "error" in answer:
                        raise decode_error(answer)
                    return decode(answer["result"])
                failure = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    break
            if attempt < attempts:
                logger.warning("%s.%s: %s; retrying (%d/%d).", self.app, self.name, failure, attempt, attempts - 1)
                time.sleep(min(2.0, 0.1 * 2**attempt))
        logger.error("%s.%s failed after %d attempts: %s", self.app, self.name, attempts, failure)
        raise ServiceUnavailable(extra={"retry_after": settings.DATABASE_RETRY_AFTER_SECONDS})


def remote_functions(app: str, base_url: str) -> dict:
    """Stand-ins for the public functions of ``app``, called on the process at ``base_url``."""
    module = _public_module(app)
    return {
        name: RemoteFunction(app, name, base_url, getattr(module, name))
        for name in module.__all__
        if inspect.isfunction(getattr(module, name)) and name not in LOCAL_ONLY.get(app, ())
    }


def install() -> None:
    """Route the public functions of every app in ``REMOTE_APPS`` to its process (called once at start-up)."""
    if settings.REMOTE_APPS and not settings.SERVICE_TOKEN:
        raise ImproperlyConfigured("REMOTE_APPS needs SERVICE_TOKEN, the credential the owning processes expect.")
    for app, base_url in settings.REMOTE_APPS.items():
        module = _public_module(app)
        for name, function in remote_functions(app, base_url).items():
            setattr(module, name, function)


# --- the owner's side -------------------------------------------------------------------------------------


def _error(status: int, code: str) -> JsonResponse:
    return JsonResponse({"code": code}, status=status)


@csrf_exempt
@require_POST
def call(request, app: str, name: str) -> HttpResponse:
    """Run one public function of a served app for another process of the shop (service credential only)."""
    from ecommerce import idempotency

    presented = request.headers.get(TOKEN_HEADER, "")
    if not hmac.compare_digest(presented.encode(), settings.SERVICE_TOKEN.encode()):
        return _error(403, "service_credential_required")
    module = _public_module(app)
    function = getattr(module, name, None) if name in module.__all__ else None
    if not inspect.isfunction(function):
        return _error(404, "not_found")
    try:
        arguments = json.loads(request.body)
        args, kwargs = decode(arguments["args"]), decode(arguments["kwargs"])
    except (ValueError, KeyError, TypeError) as exc:  # UnsafeValue is a ValueError
        logger.warning("Refused a call of %s.%s: %s", app, name, exc)
        return _error(400, "invalid_call")
    key = "" if name in READS.get(app, ()) else request.headers.get("Idempotency-Key", "")  # no key: not remembered
    fingerprint = hashlib.sha256(request.body).hexdigest()
    return idempotency.remember_call(
        scope=f"internal:{app}.{name}",
        key=key,
        fingerprint=fingerprint,
        run=lambda: _run(function, args, kwargs),
    )


def _run(function, args, kwargs) -> tuple[int, dict]:
    try:
        return 200, {"result": encode(function(*args, **kwargs))}
    except DomainError as error:
        return 200, encode_error(error)


def internal_urlpatterns(apps) -> list:
    """``/internal/<app>/<function>`` for the served ``apps`` that have a public module (none without SERVICE_TOKEN)."""
    if not settings.SERVICE_TOKEN:
        return []
    served = "|".join(app for app in REMOTE_CAPABLE_APPS if app in apps and app not in settings.REMOTE_APPS)
    served = f"{served}|outbox" if served else "outbox"
    return [re_path(rf"^internal/(?P<app>{served})/(?P<name>[a-z_]+)$", call, name="internal-call")]
