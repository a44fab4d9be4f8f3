"""The single-use links of the account emails: signed, time-limited, and tied to the account's state.

A token carries the user's id and a digest of what using it changes (the password, the verification
time, the email, whether the account is active): once the link has been used, or the password changed,
the digest no longer matches and the token is refused.
"""

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User

VERIFY_EMAIL = "accounts.verify-email"
RESET_PASSWORD = "accounts.reset-password"


def _state(user: User, purpose: str) -> str:
    value = f"{user.pk}|{user.email}|{user.password}|{user.email_verified_at}|{user.is_active}"
    return salted_hmac(purpose, value).hexdigest()[:32]


def make_token(user: User, purpose: str) -> str:
    return signing.dumps([user.pk, _state(user, purpose)], salt=purpose)


def claimed_user_id(token: str, purpose: str, max_age_seconds: int) -> int | None:
    """The user id a well-signed, unexpired token names, or None."""
    try:
        payload = signing.loads(token, salt=purpose, max_age=max_age_seconds)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not (isinstance(payload, list) and len(payload) == 2 and type(payload[0]) is int):
        return None
    return payload[0]


def matches(token: str, user: User, purpose: str) -> bool:
    """Whether a token (already checked by ``claimed_user_id``) was made for the user's current state."""
    _, state = signing.loads(token, salt=purpose)
    return isinstance(state, str) and constant_time_compare(state, _state(user, purpose))
