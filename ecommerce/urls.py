"""The single URLconf: the API gateway of the shop (one origin, one auth check, one rate limit)."""

import os

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from ecommerce.urlpatterns import mount, route
from ecommerce.views import HealthView, PingView, plain_ping

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    mount("auth", "accounts.urls"),
    mount("products", "catalog.urls"),
    mount("inventory", "inventory.urls"),
    mount("cart", "cart.urls"),
    mount("order", "orders.urls"),
    mount("payment", "payments.urls"),
    mount("health", [route("", HealthView.as_view(), "health")]),
    mount("api/schema", [route("", SpectacularAPIView.as_view(), "schema")]),
    # The split view serves its script from a URL rather than inline, as the Content-Security-Policy requires.
    mount("api/docs", [route("", SpectacularSwaggerSplitView.as_view(url_name="schema"), "swagger-ui")]),
    mount("api/redoc", [route("", SpectacularRedocView.as_view(url_name="schema"), "redoc")]),
    path("shop/", include("storefront.urls")),
]

if os.environ.get("BENCHMARK_ENDPOINTS") == "1":  # set by `make bench` only
    urlpatterns.append(mount("bench/ping", [route("", PingView.as_view(), "bench-ping")]))
    urlpatterns.append(mount("bench/django-ping", [route("", plain_ping, "bench-django-ping")]))

handler404 = "ecommerce.views.not_found"
handler500 = "ecommerce.views.server_error"
