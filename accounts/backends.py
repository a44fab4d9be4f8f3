"""Django's login (the admin's and the shop's), with the API's per-account lockout and security log."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import lockout
from accounts.models import User
from ecommerce.logs import log_security_event


class LockoutModelBackend(ModelBackend):
    """ModelBackend that refuses a locked account and counts failed logins (accounts.lockout)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if email is None or password is None:
            return None
        if lockout.seconds_locked(email):
            log_security_event("login_refused_locked", account=email)
            raise PermissionDenied  # stops authenticate(): no other backend may let it in
        user = super().authenticate(request, username=email, password=password)
        if user is None:
            lockout.record_failed_login(email)
        else:
            lockout.clear_failed_logins(email)
        return user
