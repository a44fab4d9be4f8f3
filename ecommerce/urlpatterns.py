"""Routing helpers: every path answers with and without a trailing slash, without redirects.

An app's URLconf is mounted with ``mount("products", "catalog.urls")``; inside it, ``route("")`` is
the prefix itself and ``route(ID)`` is ``/products/<pk>``.
"""

import functools

from django.conf import settings
from django.http import HttpRequest
from django.urls import include, re_path


def _with_integer_id(view):
    """Hand the view its ``pk`` as an int, as ``<int:pk>`` would."""

    @functools.wraps(view)  # keeps DRF's ``cls``/``initkwargs``, which the schema generator reads
    def view_with_integer_id(request, *args, pk: str, **kwargs):
        return view(request, *args, pk=int(pk), **kwargs)

    return view_with_integer_id


def route(pattern: str, view, name: str):
    """A route for ``<prefix>/<pattern>`` that also matches a trailing slash; an ``ID`` in it arrives as an int."""
    regex = rf"^/{pattern}/?$" if pattern else r"^/?$"
    return re_path(regex, _with_integer_id(view) if "(?P<pk>" in pattern else view, name=name)


def mount(prefix: str, urlconf: str):
    """Mount an app's URLconf at ``/<prefix>``."""
    return re_path(rf"^{prefix}", include(urlconf))


ID = r"(?P<pk>[0-9]{1,18})"


def site_url(request: HttpRequest) -> str:
    """The shop's address for links in emails: ``PUBLIC_URL``, or the scheme and (allowed) host of the request."""
    return settings.PUBLIC_URL or f"{request.scheme}://{request.get_host()}"
