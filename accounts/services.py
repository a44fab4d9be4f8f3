"""Accounts: registration, authentication and JWTs. The public interface of this app."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts import links, lockout, tokens
from accounts.emails import RESET_PASSWORD_PAGE, VERIFY_EMAIL_PAGE, link, send_account_email
from accounts.errors import (
    AddressBookFull,
    AddressNotFound,
    EmailAlreadyVerified,
    EmailNotVerified,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidToken,
    LoginLocked,
    RefreshTokenReused,
    TokenRevoked,
    WeakPassword,
    WrongPassword,
)
from accounts.models import Address, User, normalize_email
from ecommerce.addresses import PostalAddress
from ecommerce.auth import PERMISSIONS_CLAIM
from ecommerce.db import atomic
from ecommerce.errors import NotFound
from ecommerce.logs import log_security_event
from outbox import services as outbox

# The apps whose model permissions the API checks on staff writes; a staff token carries the user's ones.
TOKEN_PERMISSION_APPS = frozenset({"catalog", "inventory", "orders", "payments"})

__all__ = [
    "MAX_ADDRESSES",
    "AddressBookFull",
    "AddressNotFound",
    "EmailAlreadyVerified",
    "EmailNotVerified",
    "InvalidCredentials",
    "InvalidRefreshToken",
    "InvalidToken",
    "LoginLocked",
    "RefreshTokenReused",
    "SavedAddress",
    "TokenPair",
    "TokenRevoked",
    "UserInfo",
    "WeakPassword",
    "WrongPassword",
    "add_address",
    "authenticate_user",
    "change_password",
    "delete_account",
    "delete_address",
    "find_user_ids_by_email",
    "get_address",
    "get_user",
    "get_users",
    "issue_tokens",
    "list_addresses",
    "login_lockout_seconds",
    "register_user",
    "request_password_reset",
    "require_verified_email",
    "reset_password",
    "revoke_refresh_token",
    "revoke_sessions",
    "rotate_refresh_token",
    "send_verification_email",
    "update_address",
    "verify_email",
]


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    email: str
    is_staff: bool
    date_joined: datetime
    email_verified: bool
    is_active: bool  # False once deactivated by staff or deleted by its owner (then the email is a placeholder)


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        name=user.name,
        email=user.email,
        is_staff=user.is_staff,
        date_joined=user.date_joined,
        email_verified=user.email_verified_at is not None,
        is_active=user.is_active,
    )


def _validate_password(password: str, user: User, attr: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        code = exc.error_list[0].code or WeakPassword.code
        error = WeakPassword(" ".join(exc.messages), attr=attr)
        error.code = code
        raise error from exc


def _send_verification(user: User, site_url: str) -> None:
    verify_link = link(site_url, VERIFY_EMAIL_PAGE, links.make_token(user, links.VERIFY_EMAIL))
    days = settings.EMAIL_VERIFICATION_TIMEOUT // 86400
    send_account_email(
        to=user.email, template="verify_email", context={"name": user.name, "link": verify_link, "valid_days": days}
    )


def _reset_link(user: User, site_url: str) -> str:
    return link(site_url, RESET_PASSWORD_PAGE, links.make_token(user, links.RESET_PASSWORD))


@atomic("accounts")
def register_user(*, name: str, email: str, password: str, site_url: str) -> UserInfo | None:
    """Sign up: a new email gets an unverified customer account (never staff) and a verification link; an
    email that has an account gets a notice instead (with a password reset link), and nothing changes.

    Both cases hash the password and send one email, so that neither the answer nor its timing tells
    whether an email has an account: callers must answer the same either way. Returns the new account,
    or None when the email had one. ``site_url`` is the shop's address for the links. Raises WeakPassword.
    """
    email = normalize_email(email)
    _validate_password(password, User(email=email, name=name))
    existing = User.objects.filter(email=email).first()
    if existing is None:
        try:
            with atomic("accounts"):
                user = User.objects.create_user(email=email, password=password, name=name)
        except IntegrityError:  # a concurrent registration of the same email won
            existing = User.objects.filter(email=email).first()
        else:
            _send_verification(user, site_url)
            return _info(user)
    make_password(password)  # the work a new account's hash costs, so that both answers take as long
    if existing is not None and existing.is_active:
        context = {"name": existing.name, "reset_link": _reset_link(existing, site_url)}
        send_account_email(to=existing.email, template="already_registered", context=context)
    return None


def _user_of_token(token: str, purpose: str, max_age_seconds: int) -> User:
    """The active user a link's token was made for, locked, while the token still matches its state."""
    user_id = links.claimed_user_id(token, purpose, max_age_seconds)
    user = None if user_id is None else User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or not links.matches(token, user, purpose):
        raise InvalidToken(attr="token")
    return user


@atomic("accounts")
def verify_email(*, token: str) -> UserInfo:
    """Mark the email address of the account a verification link was sent to as verified (the link then expires).

    Raises InvalidToken (unknown, expired or used token).
    """
    user = _user_of_token(token, links.VERIFY_EMAIL, settings.EMAIL_VERIFICATION_TIMEOUT)
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return _info(user)


@atomic("accounts")
def send_verification_email(*, user_id: int, site_url: str) -> None:
    """Email a new verification link to the user (earlier links keep working until used or expired).

    Raises EmailAlreadyVerified.
    """
    user = User.objects.get(pk=user_id)
    if user.email_verified_at is not None:
        raise EmailAlreadyVerified()
    _send_verification(user, site_url)


def require_verified_email(*, user_id: int) -> None:
    """Check that the user may pay: their email address is verified. Raises EmailNotVerified."""
    if not User.objects.filter(pk=user_id, email_verified_at__isnull=False).exists():
        raise EmailNotVerified()


def _set_password(user: User, new_password: str, attr: str) -> None:
    _validate_password(new_password, user, attr=attr)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    revoke_sessions(user_id=user.id)


@atomic("accounts")
def change_password(*, user_id: int, current_password: str, new_password: str, site_url: str) -> UserInfo:
    """Change the signed-in user's password, end all their sessions (revoke_sessions), and tell them by email.

    Raises WrongPassword (``current_password`` is not theirs) or WeakPassword (on ``new_password``).
    """
    user = User.objects.select_for_update().get(pk=user_id)
    if not user.check_password(current_password):
        raise WrongPassword(attr="current_password")
    _set_password(user, new_password, attr="new_password")
    context = {"name": user.name, "reset_link": _reset_link(user, site_url)}
    send_account_email(to=user.email, template="password_changed", context=context)
    return _info(user)


@atomic("accounts")
def request_password_reset(*, email: str, site_url: str) -> None:
    """Email a password reset link (valid PASSWORD_RESET_TIMEOUT seconds, once) if an active account has
    this email; otherwise do nothing. Callers answer the same either way. Raises nothing."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None and user.has_usable_password():
        minutes = settings.PASSWORD_RESET_TIMEOUT // 60
        context = {"name": user.name, "link": _reset_link(user, site_url), "valid_minutes": minutes}
        send_account_email(to=user.email, template="password_reset", context=context)


@atomic("accounts")
def reset_password(*, token: str, new_password: str) -> UserInfo:
    """Set a new password with a reset link's token (which then stops working), end all their sessions,
    lift a login lockout, and count the email as verified (the link reached its owner).

    Raises InvalidToken (unknown, expired or used token) or WeakPassword (on ``new_password``).
    """
    user = _user_of_token(token, links.RESET_PASSWORD, settings.PASSWORD_RESET_TIMEOUT)
    _set_password(user, new_password, attr="new_password")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    lockout.clear_failed_logins(user.email)
    return _info(user)


@atomic("accounts")
def delete_account(*, user_id: int, password: str) -> None:
    """Delete the user's account, confirmed with their password: the personal data goes (name, email,
    addresses, password, roles), the row stays inactive under a placeholder email so that orders and
    payments, which keep the user id, stay in the books. Their sessions end; a goodbye email is
    sent to the old address. Raises WrongPassword.
    """
    user = User.objects.select_for_update().get(pk=user_id)
    if not user.check_password(password):
        raise WrongPassword(attr="password")
    send_account_email(to=user.email, template="account_deleted", context={"name": user.name})
    Address.objects.filter(user_id=user.id).delete()
    user.groups.clear()
    user.user_permissions.clear()
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.name = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.email_verified_at = None
    user.save()
    revoke_sessions(user_id=user.id)
    outbox.publish("account.deleted", {"user_id": user.id}, app_label="accounts")


def authenticate_user(*, email: str, password: str) -> UserInfo:
    """Check an email and password, through the same backend (and failed-login lockout) as the shop and admin.

    Raises LoginLocked (too many failed logins to this email lately; ``retry_after`` in its extra) or
    InvalidCredentials, with the same message whether the email or the password is wrong.
    """
    wait = lockout.seconds_locked(email)
    if wait:
        raise LoginLocked(extra={"retry_after": wait})
    user = authenticate(request=None, email=normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentials()
    return _info(user)


def login_lockout_seconds(*, email: str) -> int:
    """Seconds until logins to ``email`` are allowed again after too many failures; 0 when they are."""
    return lockout.seconds_locked(email)


def _staff_claims(user: User) -> dict:
    """What the API needs to authorise a staff write without a query: superuser, or the permissions held."""
    if not user.is_staff:
        return {}
    if user.is_superuser:
        return {"is_superuser": True}
    permissions = (p for p in user.get_all_permissions() if p.partition(".")[0] in TOKEN_PERMISSION_APPS)
    return {PERMISSIONS_CLAIM: sorted(permissions)}


def _tokens_for(user: User, *, auth_time: int | None = None) -> TokenPair:
    """A new pair for ``user``, in the session begun at ``auth_time`` (a password sign-in; now if None)."""
    refresh = RefreshToken.for_user(user)
    auth_time = auth_time or refresh["iat"]
    refresh[tokens.AUTH_TIME_CLAIM] = auth_time
    expiry = tokens.refresh_expiry(auth_time=auth_time, issued_at=refresh["iat"])
    if expiry < refresh["exp"]:  # the session's last days: the token ends with it
        refresh["exp"] = expiry
        OutstandingToken.objects.filter(jti=refresh[jwt_settings.JTI_CLAIM]).update(
            expires_at=datetime_from_epoch(expiry)
        )
    # Copied into every access token made from it; re-read from the database on each refresh.
    refresh["is_staff"] = user.is_staff
    for claim, value in {**_staff_claims(user), **tokens.version_claims(user)}.items():
        refresh[claim] = value
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def issue_tokens(*, user_id: int) -> TokenPair:
    """Begin a session: an access and a refresh token carrying ``user_id``, ``is_staff`` and, for staff, the
    permissions the API checks (``is_superuser``, or ``perms``: the user's model permissions in
    TOKEN_PERMISSION_APPS), with the claims of accounts.tokens (session and rights versions, ``auth_time``)."""
    return _tokens_for(User.objects.get(pk=user_id))


def _load_refresh(refresh: str, token_class: type[RefreshToken] = RefreshToken) -> RefreshToken:
    try:
        return token_class(refresh)  # checks signature, expiry and (RefreshToken) the blacklist
    except TokenError as exc:
        raise InvalidRefreshToken() from exc


class _RotatedRefreshToken(RefreshToken):
    """A refresh token checked for signature, expiry and type: rotation itself tells a token used before."""

    def check_blacklist(self) -> None:
        return None


def rotate_refresh_token(*, refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token is blacklisted. However often it is rotated,
    a session ends REFRESH_TOKEN_MAX_AGE_DAYS after the password sign-in that began it.

    Raises InvalidRefreshToken (invalid, expired, or its user inactive), TokenRevoked (its session was
    revoked), or RefreshTokenReused: it was rotated or revoked before, so a copy of it is about; every session
    of its user is then ended (revoke_sessions), the thief's and the owner's alike.
    """
    token = _load_refresh(refresh, _RotatedRefreshToken)
    with atomic("accounts"):
        user = User.objects.select_for_update().filter(pk=token.get(jwt_settings.USER_ID_CLAIM), is_active=True)
        user = user.first()
        if user is None:
            raise InvalidRefreshToken()
        if token.get(tokens.SESSION_VERSION_CLAIM, 0) != user.session_version:
            raise TokenRevoked()
        _, first_use = token.blacklist()
        if first_use:
            return _tokens_for(user, auth_time=token.get(tokens.AUTH_TIME_CLAIM) or token.get("iat"))
    revoke_sessions(user_id=user.pk)
    log_security_event("refresh_token_reused", account=user.email, user_id=user.pk)
    raise RefreshTokenReused()


@atomic("accounts")
def revoke_sessions(*, user_id: int) -> None:
    """End every session of the user: their refresh tokens and the access tokens made from them are refused
    from the commit on (401 ``token_revoked``). To keep the caller signed in, issue_tokens afterwards."""
    tokens.bump_session_version(user_id)


@atomic("accounts")
def revoke_refresh_token(*, refresh: str, user_id: int) -> None:
    """Blacklist a refresh token of ``user_id`` (log out).

    Raises InvalidRefreshToken when it is invalid or belongs to someone else.
    """
    token = _load_refresh(refresh)
    if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(user_id):
        raise InvalidRefreshToken()
    token.blacklist()


def get_user(*, user_id: int) -> UserInfo:
    """The user with this id. Raises NotFound."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    return _info(user)


def get_users(*, user_ids) -> dict[int, UserInfo]:
    """Users by id, in one query; unknown ids are left out."""
    return {user.id: _info(user) for user in User.objects.filter(pk__in=set(user_ids))}


def find_user_ids_by_email(*, query: str) -> list[int]:
    """Ids of users whose email contains ``query`` (case-insensitive), for staff search screens."""
    return list(User.objects.filter(email__icontains=query.strip()).values_list("id", flat=True)[:1000])


# --- Address book ----------------------------------------------------------------------------------

MAX_ADDRESSES = 20  # per user: an address book, not a mailing list


@dataclass(frozen=True)
class SavedAddress:
    """An address of the user's address book, by id."""

    id: int
    address: PostalAddress
    created_at: datetime


def _saved(row: Address) -> SavedAddress:
    fields = {name: getattr(row, name) for name in PostalAddress.__dataclass_fields__}
    return SavedAddress(id=row.id, address=PostalAddress(**fields), created_at=row.created_at)


def list_addresses(*, user_id: int) -> list[SavedAddress]:
    """The user's saved addresses, oldest first (at most MAX_ADDRESSES)."""
    return [_saved(row) for row in Address.objects.filter(user_id=user_id).order_by("id")]


def get_address(*, user_id: int, address_id: int) -> SavedAddress:
    """One of the user's saved addresses. Raises AddressNotFound (unknown, or someone else's)."""
    row = Address.objects.filter(user_id=user_id, pk=address_id).first()
    if row is None:
        raise AddressNotFound()
    return _saved(row)


@atomic("accounts")
def add_address(*, user_id: int, address: PostalAddress) -> SavedAddress:
    """Save an address (already validated) in the user's address book.

    Raises AddressBookFull past MAX_ADDRESSES (checked under a lock on the user, so races cannot pass it).
    """
    User.objects.select_for_update().filter(pk=user_id).values_list("id", flat=True).first()
    if Address.objects.filter(user_id=user_id).count() >= MAX_ADDRESSES:
        raise AddressBookFull()
    return _saved(Address.objects.create(user_id=user_id, **address.as_dict()))


@atomic("accounts")
def update_address(*, user_id: int, address_id: int, address: PostalAddress) -> SavedAddress:
    """Replace a saved address with ``address``. Raises AddressNotFound."""
    if not Address.objects.filter(user_id=user_id, pk=address_id).update(**address.as_dict()):
        raise AddressNotFound()
    return get_address(user_id=user_id, address_id=address_id)


def delete_address(*, user_id: int, address_id: int) -> None:
    """Remove an address from the user's address book (orders keep their own copy). Raises AddressNotFound."""
    deleted, _ = Address.objects.filter(user_id=user_id, pk=address_id).delete()
    if not deleted:
        raise AddressNotFound()
