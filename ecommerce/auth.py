"""Stateless JWT authentication: who the caller is comes from the token's claims, with no user query."""

from functools import cached_property

from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.settings import api_settings

PERMISSIONS_CLAIM = "perms"


class ClaimsUser(TokenUser):
    """The caller as the access token describes it: an integer ``id``, ``is_staff``, ``is_superuser`` and,
    for staff, the Django model permissions the API checks (the ``perms`` claim, e.g. ``catalog.change_product``).
    """

    @cached_property
    def id(self) -> int:
        return int(self.token[api_settings.USER_ID_CLAIM])

    @cached_property
    def _permissions(self) -> frozenset[str]:
        return frozenset(self.token.get(PERMISSIONS_CLAIM) or ())

    def has_perm(self, perm: str, obj=None) -> bool:
        return bool(self.is_superuser) or perm in self._permissions

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(perm) for perm in perm_list)

    def get_all_permissions(self, obj=None) -> set[str]:
        return set(self._permissions)
