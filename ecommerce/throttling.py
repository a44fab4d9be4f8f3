"""Rate limits that fail open: counters live in the shared cache (Redis or the database), and when that
store is unreachable a request is let through, still bounded by a per-process counter, never refused
with a 500. Which client a request comes from is DRF's ``get_ident``: the connection's address, or the
address ``NUM_PROXIES`` trusted proxies put in X-Forwarded-For (settings.py explains).
"""

import logging
import math
import time

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)

WARNING_INTERVAL_SECONDS = 60  # one warning a minute per process while the store is down, not one per request


class FailOpenCache:
    """The default cache, or a per-process memory cache for as long as the default one raises."""

    def __init__(self, alias: str = "default"):
        self.alias = alias
        self.fallback = LocMemCache(f"fail-open-{alias}", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
        self._last_warning = 0.0

    def _call(self, method: str, *args, **kwargs):
        try:
            return getattr(caches[self.alias], method)(*args, **kwargs)
        except Exception as exc:  # any failure of the store (connection refused, timeout, database error)
            now = time.monotonic()
            if now - self._last_warning >= WARNING_INTERVAL_SECONDS:
                self._last_warning = now
                logger.warning(
                    "Cache %r unreachable (%s): rate limits fall back to per-process counters.",
                    self.alias,
                    type(exc).__name__,
                )
            return getattr(self.fallback, method)(*args, **kwargs)

    def get(self, key, default=None):
        return self._call("get", key, default)

    def set(self, key, value, timeout):
        return self._call("set", key, value, timeout)

    def add(self, key, value, timeout):
        return self._call("add", key, value, timeout)

    def incr(self, key, delta=1):
        return self._call("incr", key, delta)

    def delete_many(self, keys):
        return self._call("delete_many", keys)


throttle_cache = FailOpenCache()


class FailOpenScopedRateThrottle(ScopedRateThrottle):
    """DRF's scoped rate limit (``throttle_scope`` on the view), counted in the fail-open cache."""

    cache = throttle_cache

    def applies_to(self, method: str) -> bool:
        """Whether requests of this HTTP method are counted (the schema documents 429 for those)."""
        return True


NEW_ATTEMPT = "throttle_as_new_attempt"


class NewAttemptThrottle(FailOpenScopedRateThrottle):
    """A per-user limit on the attempts at a use case (a POST whose handler is ``ecommerce.idempotency.idempotent``),
    e.g. checkouts or payments: a request with an ``Idempotency-Key`` is counted by that decorator once it is known
    to be a new attempt, so that replaying an earlier answer is never throttled. Other methods are not counted."""

    def applies_to(self, method: str) -> bool:
        return method == "POST"

    def allow_request(self, request, view) -> bool:
        if not self.applies_to(request.method):
            return True
        if request.headers.get("Idempotency-Key") is not None and not getattr(request, NEW_ATTEMPT, False):
            return True  # counted by @idempotent if it is not a replay
        return super().allow_request(request, view)


def throttle_new_attempt(view, request) -> None:
    """Count a request that carries an Idempotency-Key and is no replay against the view's throttles.

    Raises DRF's Throttled (429 ``throttled`` with ``Retry-After``).
    """
    setattr(request, NEW_ATTEMPT, True)
    view.check_throttles(request)


def seconds_until_allowed(request, scope: str) -> int | None:
    """Count a request against ``scope``'s rate limit: None if it may proceed, else the seconds to wait.

    For pages outside DRF (the shop) sharing the API's counters.
    """
    throttle = FailOpenScopedRateThrottle()

    class _View:
        throttle_scope = scope

    if throttle.allow_request(request, _View()):
        return None
    return max(1, math.ceil(throttle.wait() or 1))
