"""Accounts: registration, authentication and JWTs. The public interface of this app."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts import lockout, tokens
from accounts.errors import (
    AddressBookFull,
    AddressNotFound,
    EmailTaken,
    InvalidCredentials,
    InvalidRefreshToken,
    LoginLocked,
    RefreshTokenReused,
    TokenRevoked,
    WeakPassword,
)
from accounts.models import Address, User, normalize_email
from ecommerce.addresses import PostalAddress
from ecommerce.auth import PERMISSIONS_CLAIM
from ecommerce.errors import NotFound
from ecommerce.logs import log_security_event

# The apps whose model permissions the API checks on staff writes; a staff token carries the user's ones.
TOKEN_PERMISSION_APPS = frozenset({"catalog", "inventory", "orders", "payments"})

__all__ = [
    "MAX_ADDRESSES",
    "AddressBookFull",
    "AddressNotFound",
    "EmailTaken",
    "InvalidCredentials",
    "InvalidRefreshToken",
    "LoginLocked",
    "RefreshTokenReused",
    "SavedAddress",
    "TokenPair",
    "TokenRevoked",
    "UserInfo",
    "WeakPassword",
    "add_address",
    "authenticate_user",
    "delete_address",
    "find_user_ids_by_email",
    "get_address",
    "get_user",
    "get_users",
    "issue_tokens",
    "list_addresses",
    "login_lockout_seconds",
    "register_user",
    "revoke_refresh_token",
    "revoke_sessions",
    "rotate_refresh_token",
    "update_address",
]


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    email: str
    is_staff: bool
    date_joined: datetime


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _info(user: User) -> UserInfo:
    return UserInfo(id=user.id, name=user.name, email=user.email, is_staff=user.is_staff, date_joined=user.date_joined)


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        code = exc.error_list[0].code or WeakPassword.code
        error = WeakPassword(" ".join(exc.messages), attr="password")
        error.code = code
        raise error from exc


@transaction.atomic
def register_user(*, name: str, email: str, password: str) -> UserInfo:
    """Create a customer account (never staff).

    Raises EmailTaken (the email exists in any letter case) or WeakPassword.
    """
    email = normalize_email(email)
    candidate = User(email=email, name=name)
    _validate_password(password, candidate)
    if User.objects.filter(email=email).exists():
        raise EmailTaken(attr="email")
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name)
    except IntegrityError as exc:  # a concurrent registration of the same email won
        raise EmailTaken(attr="email") from exc
    return _info(user)


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
    with transaction.atomic():
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


@transaction.atomic
def revoke_sessions(*, user_id: int) -> None:
    """End every session of the user: their refresh tokens and the access tokens made from them are refused
    from the commit on (401 ``token_revoked``). To keep the caller signed in, issue_tokens afterwards."""
    tokens.bump_session_version(user_id)


@transaction.atomic
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


@transaction.atomic
def add_address(*, user_id: int, address: PostalAddress) -> SavedAddress:
    """Save an address (already validated) in the user's address book.

    Raises AddressBookFull past MAX_ADDRESSES (checked under a lock on the user, so races cannot pass it).
    """
    User.objects.select_for_update().filter(pk=user_id).values_list("id", flat=True).first()
    if Address.objects.filter(user_id=user_id).count() >= MAX_ADDRESSES:
        raise AddressBookFull()
    return _saved(Address.objects.create(user_id=user_id, **address.as_dict()))


@transaction.atomic
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
