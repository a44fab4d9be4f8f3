from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    """The shop's pages, server-rendered from the same services as the API (the top layer: nothing imports it)."""

    name = "storefront"
