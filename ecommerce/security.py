"""Security middleware of the gateway: a Content-Security-Policy on every response, and staff sessions
that end after a while idle and after a maximum age whatever the activity."""

import time

from django.conf import settings
from django.contrib.auth import logout

from ecommerce.logs import log_security_event

# Pages load scripts and styles from this origin only (Stripe.js on the card page); nothing may frame them.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' https://js.stripe.com",
        "frame-src https://js.stripe.com https://hooks.stripe.com",
        "connect-src 'self' https://api.stripe.com",
        " ".join(["img-src 'self' data:", *settings.CSP_IMG_SOURCES]),
        "style-src 'self' 'unsafe-inline'",  # inline style attributes of the admin and Redoc; no inline scripts
        "font-src 'self' data:",
        "worker-src 'self' blob:",  # Redoc's search worker
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


STAFF_SESSION_STARTED = "_staff_session_started"
STAFF_SESSION_LAST_SEEN = "_staff_session_last_seen"
LAST_SEEN_RESOLUTION_SECONDS = 60  # write the session at most once a minute, not on every request


def start_staff_session(sender, request, user, **kwargs) -> None:
    """On login (``user_logged_in``): note when a staff session starts, so requests need not write it."""
    if user.is_staff and request is not None and hasattr(request, "session"):
        request.session[STAFF_SESSION_STARTED] = request.session[STAFF_SESSION_LAST_SEEN] = int(time.time())


class StaffSessionTimeoutMiddleware:
    """Log a staff member out after STAFF_SESSION_IDLE_MINUTES without a request, or STAFF_SESSION_MAX_HOURS
    after logging in. Customers' sessions keep Django's SESSION_COOKIE_AGE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated and request.user.is_staff:
            self._expire_or_touch(request)
        return self.get_response(request)

    def _expire_or_touch(self, request) -> None:
        session, now = request.session, int(time.time())
        started = session.get(STAFF_SESSION_STARTED)
        last_seen = session.get(STAFF_SESSION_LAST_SEEN, started)
        if started is None:  # a session from before this middleware
            session[STAFF_SESSION_STARTED] = session[STAFF_SESSION_LAST_SEEN] = now
            return
        idle_too_long = now - last_seen > settings.STAFF_SESSION_IDLE_MINUTES * 60
        too_old = now - started > settings.STAFF_SESSION_MAX_HOURS * 3600
        if idle_too_long or too_old:
            log_security_event("staff_session_expired", user_id=request.user.pk, idle=idle_too_long)
            logout(request)
        elif now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
            session[STAFF_SESSION_LAST_SEEN] = now
