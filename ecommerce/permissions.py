"""Permissions shared by every app; the user comes from the token's claims.

Staff writes need Django model permissions as well as ``is_staff`` (the same ones the admin checks), read
from the token's ``perms`` claim; superusers have them all. A view lists what each method needs in
``required_permissions``, e.g. ``{"PATCH": ["catalog.change_product"]}``.
"""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

MISSING_PERMISSION = "missing_permission"


class IsStaff(BasePermission):
    """Allows staff only (the ``is_staff`` claim of the access token)."""

    message = "Only staff may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class IsStaffOrReadOnly(IsStaff):
    """Anyone may read; only staff may write."""

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS") or not hasattr(view, request.method.lower()):
            return True  # a method the view does not have is answered 405, whoever asks
        return super().has_permission(request, view)


def missing_permission_message(permissions: list[str]) -> str:
    return "Your staff role lacks the permission " + ", ".join(permissions) + "."


class MissingPermission(PermissionDenied):
    """403 for a staff user whose role lacks a permission the request needs."""

    default_code = MISSING_PERMISSION

    def __init__(self, permissions: list[str]):
        super().__init__(missing_permission_message(permissions), code=MISSING_PERMISSION)


class HasRequiredPermissions(BasePermission):
    """The caller has every permission ``view.required_permissions`` lists for the request's method."""

    code = MISSING_PERMISSION

    def has_permission(self, request, view) -> bool:
        needed = getattr(view, "required_permissions", {}).get(request.method, [])
        missing = [permission for permission in needed if not request.user.has_perm(permission)]
        if missing:
            self.message = missing_permission_message(missing)
        return not missing


def require_permissions(user, *permissions: str) -> None:
    """Raise MissingPermission (403 ``missing_permission``) unless ``user`` has every one of ``permissions``."""
    missing = [permission for permission in permissions if not user.has_perm(permission)]
    if missing:
        raise MissingPermission(missing)
