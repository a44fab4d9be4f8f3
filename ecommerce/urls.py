"""The single URLconf: the API gateway of the shop (one origin, one auth check, one rate limit)."""

from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from ecommerce.urlpatterns import mount, route
from ecommerce.views import HealthView

urlpatterns = [
    path("admin/", admin.site.urls),
    mount("auth", "accounts.urls"),
    mount("products", "catalog.urls"),
    mount("inventory", "inventory.urls"),
    mount("cart", "cart.urls"),
    mount("order", "orders.urls"),
    mount("payment", "payments.urls"),
    mount("health", [route("", HealthView.as_view(), "health")]),
    mount("api/schema", [route("", SpectacularAPIView.as_view(), "schema")]),
    mount("api/docs", [route("", SpectacularSwaggerView.as_view(url_name="schema"), "swagger-ui")]),
    mount("api/redoc", [route("", SpectacularRedocView.as_view(url_name="schema"), "redoc")]),
]

handler404 = "ecommerce.views.not_found"
handler500 = "ecommerce.views.server_error"
