"""Stateless JWT authentication: who the caller is comes from the token's claims, with no user query."""

from functools import cached_property

from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.settings import api_settings


class ClaimsUser(TokenUser):
    """The caller as the access token describes it: an integer ``id`` and the ``is_staff`` claim."""

    @cached_property
    def id(self) -> int:
        return int(self.token[api_settings.USER_ID_CLAIM])
