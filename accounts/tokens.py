"""What our JWTs carry beyond simplejwt's claims, so that a revocation takes effect at once and a session ends.

Every refresh token carries, and every access token copies from it:

- ``sv``: the user's ``session_version``. ``revoke_sessions`` (and a deactivation) raises it: every token of the
  user's earlier sessions, refresh or access, is then refused (401 ``token_revoked``).
- ``rv``: the user's ``rights_version``, raised whenever ``is_active``, ``is_staff``, ``is_superuser``, the user's
  groups or permissions, or a group's permissions change. Access tokens carrying an older one are refused at
  once (401 ``token_revoked``); a refresh then issues tokens with the rights as they now are.
- ``auth_time``: when the user signed in with a password, kept through every rotation. A refresh token never
  outlives ``auth_time`` + ``REFRESH_TOKEN_MAX_AGE_DAYS``, however often it is rotated.

Checking an access token costs no SQL in the common case: each user's current (sv, rv) pair is in the cache,
written after every commit that changes it and when tokens are issued; a miss reads the user row once and
keeps it ``VERSIONS_CACHE_SECONDS``. With Redis the check is one GET; with the database cache (no
``REDIS_URL``) it is one primary-key SELECT on the cache table. If the cache is unreachable, pairs are kept
per process (ecommerce.throttling's fail-open cache) and a revocation may take ``VERSIONS_CACHE_SECONDS`` to
reach the other processes.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import F
from django.db.models.signals import m2m_changed, post_save, pre_delete
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTStatelessUserScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.errors import TokenRevoked
from accounts.models import User
from ecommerce.db import on_commit
from ecommerce.throttling import throttle_cache

SESSION_VERSION_CLAIM = "sv"
RIGHTS_VERSION_CLAIM = "rv"
AUTH_TIME_CLAIM = "auth_time"
VERSIONS_CACHE_SECONDS = 60
NO_ACTIVE_USER = ()


def _key(user_id: int) -> str:
    return f"accounts:token-versions:{user_id}"


def version_claims(user: User) -> dict[str, int]:
    """The claims that tie a token to the user's current session and rights; remembered in the cache too."""
    throttle_cache.add(_key(user.pk), (user.session_version, user.rights_version), VERSIONS_CACHE_SECONDS)
    return {SESSION_VERSION_CLAIM: user.session_version, RIGHTS_VERSION_CLAIM: user.rights_version}


def _current_versions(user_id: int) -> tuple:
    """(session_version, rights_version) of an active user, NO_ACTIVE_USER otherwise: cached, else read once."""
    versions = throttle_cache.get(_key(user_id))
    if versions is None:
        row = User.objects.filter(pk=user_id, is_active=True).values_list("session_version", "rights_version")
        versions = tuple(row.first() or NO_ACTIVE_USER)
        # add, not set: a pair published meanwhile by a revocation is newer than what was just read
        throttle_cache.add(_key(user_id), versions, VERSIONS_CACHE_SECONDS)
    return versions


def refresh_expiry(*, auth_time: int, issued_at: int) -> int:
    """When a refresh token issued at ``issued_at`` expires: its lifetime, but never past the session's limit."""
    lifetime = int(jwt_settings.REFRESH_TOKEN_LIFETIME.total_seconds())
    return min(issued_at + lifetime, auth_time + settings.REFRESH_TOKEN_MAX_AGE_DAYS * 86400)


def publish_versions(user_ids: Iterable[int]) -> None:
    """Once the current transaction commits, put these users' versions as they then are into the cache."""
    ids = set(user_ids)

    def publish() -> None:
        rows = User.objects.filter(pk__in=ids).values_list("id", "is_active", "session_version", "rights_version")
        found = {user_id: (sv, rv) if active else NO_ACTIVE_USER for user_id, active, sv, rv in rows}
        for user_id in ids:
            throttle_cache.set(_key(user_id), found.get(user_id, NO_ACTIVE_USER), VERSIONS_CACHE_SECONDS)

    if ids:
        on_commit("accounts", publish)


def bump_session_version(user_id: int) -> None:
    """End every session of the user (in the caller's transaction): their tokens are refused from the commit."""
    User.objects.filter(pk=user_id).update(session_version=F("session_version") + 1)
    publish_versions([user_id])


def _bump_rights_version(user_ids: Iterable[int]) -> None:
    ids = set(user_ids)
    if ids:
        User.objects.filter(pk__in=ids).update(rights_version=F("rights_version") + 1)
        publish_versions(ids)


class JWTAuthentication(JWTStatelessUserAuthentication):
    """Stateless JWT authentication (the caller from the token's claims, no user query) that refuses at once
    the access tokens of a user deactivated, whose rights changed or whose sessions were revoked since."""

    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        carried = (token.get(SESSION_VERSION_CLAIM, 0), token.get(RIGHTS_VERSION_CLAIM, 0))
        if _current_versions(int(token[jwt_settings.USER_ID_CLAIM])) != carried:
            raise AuthenticationFailed("This token was revoked: sign in or refresh again.", code=TokenRevoked.code)
        return token


class JWTAuthenticationScheme(SimpleJWTStatelessUserScheme):
    """The OpenAPI security scheme of JWTAuthentication: simplejwt's bearer JWT."""

    target_class = "accounts.tokens.JWTAuthentication"


# --- What raises rights_version: saves of the user (models.User.save), and changes of groups and permissions


def _user_saved(sender, instance: User, **kwargs) -> None:
    if getattr(instance, "rights_changed", False):
        publish_versions([instance.pk])


def _users_of_groups(group_ids) -> set[int]:
    return set(User.objects.filter(groups__in=group_ids).values_list("id", flat=True))


def _groups_or_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A user's groups or permissions, or a group's permissions, changed: its users' access tokens are stale."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if sender is Group.permissions.through:
        groups = pk_set if reverse else {instance.pk}
        if reverse and action == "pre_clear":
            groups = set(instance.group_set.values_list("id", flat=True))
        _bump_rights_version(_users_of_groups(groups))
    elif not reverse:
        _bump_rights_version([instance.pk])
    elif action == "pre_clear":
        _bump_rights_version(instance.user_set.values_list("id", flat=True))
    else:
        _bump_rights_version(pk_set)


def _group_deleted(sender, instance: Group, **kwargs) -> None:
    _bump_rights_version(_users_of_groups([instance.pk]))


def connect_signals() -> None:
    post_save.connect(_user_saved, sender=User, dispatch_uid="accounts.tokens.user_saved")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_groups_or_permissions_changed, sender=through, dispatch_uid=f"accounts.tokens.{through}")
    pre_delete.connect(_group_deleted, sender=Group, dispatch_uid="accounts.tokens.group_deleted")
