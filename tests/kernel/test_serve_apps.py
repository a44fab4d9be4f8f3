"""SERVE_APPS: a process mounts only the apps it is given (plus health, schema and docs); the rest is 404."""

import types

import pytest
from django.core.exceptions import ImproperlyConfigured

from ecommerce import urls

pytestmark = pytest.mark.django_db


def urlconf_serving(*apps: str, documented=None) -> types.ModuleType:
    """The URLconf a process started with ``SERVE_APPS=<apps>`` (and ``SCHEMA_APPS=<documented>``) builds."""
    module = types.ModuleType("served_urls")
    module.urlpatterns = urls.served_urlpatterns(apps, documented)
    module.handler404, module.handler500 = urls.handler404, urls.handler500
    return module


@pytest.fixture
def payments_process(settings):
    settings.ROOT_URLCONF = urlconf_serving("payments")


def test_a_payments_process_answers_its_own_prefix_and_health(payments_process, customer_client):
    assert customer_client.get("/payment").status_code == 200
    assert customer_client.get("/health").status_code == 200


@pytest.mark.parametrize("path", ["/products", "/auth/me", "/cart", "/order", "/inventory/1"])
def test_a_payments_process_answers_404_for_every_other_api(payments_process, customer_client, path):
    response = customer_client.get(path)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/shop/", "/admin/", "/"])
def test_a_payments_process_serves_no_pages(payments_process, client, path):
    assert client.get(path).status_code == 404


def test_the_schema_of_a_payments_process_documents_only_what_it_serves(payments_process, anon_client):
    paths = anon_client.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"/payment", "/payment/webhook", "/health"} <= paths.keys()
    assert {path.split("/")[1] for path in paths} == {"payment", "health"}


def test_the_process_behind_the_gateways_api_documents_every_app_it_names(settings, anon_client):
    settings.ROOT_URLCONF = urlconf_serving("catalog", documented=settings.SERVE_APPS)
    paths = anon_client.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"/products", "/cart", "/order/checkout", "/payment", "/auth/login", "/health"} <= paths.keys()
    assert anon_client.get("/cart").status_code == 404  # documented here, served by another process


def test_unknown_app_names_stop_the_process_at_start():
    with pytest.raises(ImproperlyConfigured, match="shipping"):
        urls.served_urlpatterns(["payments", "shipping"])


def test_by_default_every_app_is_served(anon_client):
    assert anon_client.get("/products").status_code == 200
    assert anon_client.get("/shop/").status_code == 200
