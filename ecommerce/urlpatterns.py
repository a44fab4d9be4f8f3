"""Routing helpers: every path answers with and without a trailing slash, without redirects.

An app's URLconf is mounted with ``mount("products", "catalog.urls")``; inside it, ``route("")`` is
the prefix itself and ``route(ID)`` is ``/products/<pk>``.
"""

from django.urls import include, re_path


def route(pattern: str, view, name: str):
    """A route for ``<prefix>/<pattern>`` that also matches a trailing slash."""
    regex = rf"^/{pattern}/?$" if pattern else r"^/?$"
    return re_path(regex, view, name=name)


def mount(prefix: str, urlconf: str):
    """Mount an app's URLconf at ``/<prefix>``."""
    return re_path(rf"^{prefix}", include(urlconf))


ID = r"(?P<pk>[0-9]{1,18})"
