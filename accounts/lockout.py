"""The per-account limit on failed logins, shared by the API, the shop and the admin.

After ``LOGIN_FAILURE_LIMIT`` failed logins for one email address within ``LOGIN_LOCKOUT_MINUTES``,
every login to it (even with the right password) is refused for ``LOGIN_LOCKOUT_MINUTES``. Counted per
email whether or not an account exists, so a lockout does not tell which emails are registered. Counters
live in the fail-open cache (ecommerce.throttling): if Redis is down, they are kept per process.
"""

import hashlib
import math
import time

from django.conf import settings

from accounts.models import normalize_email
from ecommerce.logs import log_security_event
from ecommerce.throttling import throttle_cache


def _key(kind: str, email: str) -> str:
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()
    return f"login-lockout:{kind}:{digest}"


def _lockout_seconds() -> int:
    return settings.LOGIN_LOCKOUT_MINUTES * 60


def seconds_locked(email: str) -> int:
    """Seconds until logins to ``email`` are allowed again; 0 when they are."""
    until = throttle_cache.get(_key("until", email))
    if until is None:
        return 0
    remaining = until - time.time()
    return math.ceil(remaining) if remaining > 0 else 0


def record_failed_login(email: str) -> None:
    """Count a failed login to ``email``, and lock it once the limit is reached."""
    log_security_event("login_failed", account=normalize_email(email))
    key = _key("failures", email)
    throttle_cache.add(key, 0, _lockout_seconds())
    try:
        failures = throttle_cache.incr(key)
    except ValueError:  # expired between add and incr
        throttle_cache.set(key, 1, _lockout_seconds())
        failures = 1
    if failures >= settings.LOGIN_FAILURE_LIMIT:
        throttle_cache.set(_key("until", email), time.time() + _lockout_seconds(), _lockout_seconds())
        throttle_cache.delete_many([key])
        log_security_event("account_locked", account=normalize_email(email), failures=failures)


def clear_failed_logins(email: str) -> None:
    """Forget the failed logins to ``email`` (after a successful one)."""
    throttle_cache.delete_many([_key("failures", email)])
