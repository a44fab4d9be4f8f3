"""Permissions shared by every app; the user comes from the token's claims."""

from rest_framework.permissions import BasePermission


class IsStaff(BasePermission):
    """Allows staff only (the ``is_staff`` claim of the access token)."""

    message = "Only staff may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class IsStaffOrReadOnly(IsStaff):
    """Anyone may read; only staff may write."""

    def has_permission(self, request, view) -> bool:
        return request.method in ("GET", "HEAD", "OPTIONS") or super().has_permission(request, view)
