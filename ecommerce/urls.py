"""The URLconf: every app's URL prefix in one process (the default), or only those named in ``SERVE_APPS``."""

import os
import re

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from ecommerce.remote import internal_urlpatterns
from ecommerce.urlpatterns import mount, route
from ecommerce.views import HealthView, PingView, media, plain_ping

# What each entry of SERVE_APPS mounts: the app's URL prefix (or, for the staff admin and the shop, their pages).
APP_ROUTES = {
    "privacy": lambda: [mount("auth/me/export", "privacy.urls")],  # before accounts, which has the rest of /auth
    "accounts": lambda: [mount("auth", "accounts.urls")],
    "catalog": lambda: [mount("products", "catalog.urls")],
    "inventory": lambda: [mount("inventory", "inventory.urls")],
    "cart": lambda: [mount("cart", "cart.urls")],
    "orders": lambda: [mount("order", "orders.urls")],
    "payments": lambda: [mount("payment", "payments.urls")],
    "admin": lambda: [path("admin/", admin.site.urls)],
    "storefront": lambda: [
        path("", TemplateView.as_view(template_name="home.html"), name="home"),
        path("shop/", include("storefront.urls")),
    ],
}


def _app_patterns(apps) -> list:
    unknown = set(apps) - APP_ROUTES.keys()
    if unknown:
        known = sorted(APP_ROUTES)
        raise ImproperlyConfigured(f"SERVE_APPS or SCHEMA_APPS names unknown apps {sorted(unknown)}; known: {known}")
    return [pattern for app in APP_ROUTES if app in apps for pattern in APP_ROUTES[app]()]


def served_urlpatterns(apps, documented=None) -> list:
    """The URLconf of a process serving ``apps`` (names of APP_ROUTES): their paths, health, schema and docs.

    The schema is generated from the patterns of ``documented`` (default: ``apps``): what this process
    serves, or, in the process the gateway sends /api to, every app behind the gateway. Every path not
    served answers 404 here.
    """
    health = mount("health", [route("", HealthView.as_view(), "health")])
    schema_urlconf = None if documented is None else [*_app_patterns(documented), health]
    return [
        *_app_patterns(apps),
        *internal_urlpatterns(apps),  # calls from the shop's other processes; the gateway never routes them
        health,
        mount("api/schema", [route("", SpectacularAPIView.as_view(urlconf=schema_urlconf), "schema")]),
        # The split view serves its script from a URL rather than inline, as the Content-Security-Policy requires.
        mount("api/docs", [route("", SpectacularSwaggerSplitView.as_view(url_name="schema"), "swagger-ui")]),
        mount("api/redoc", [route("", SpectacularRedocView.as_view(url_name="schema"), "redoc")]),
    ]


urlpatterns = served_urlpatterns(settings.SERVE_APPS, settings.SCHEMA_APPS)

if settings.SERVE_MEDIA and settings.MEDIA_URL.startswith("/"):  # not when MEDIA_URL names another server
    urlpatterns.append(re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.+)$", media, name="media"))

if os.environ.get("BENCHMARK_ENDPOINTS") == "1":  # set by `make bench` only
    urlpatterns.append(mount("bench/ping", [route("", PingView.as_view(), "bench-ping")]))
    urlpatterns.append(mount("bench/django-ping", [route("", plain_ping, "bench-django-ping")]))

handler404 = "ecommerce.views.not_found"
handler500 = "ecommerce.views.server_error"
