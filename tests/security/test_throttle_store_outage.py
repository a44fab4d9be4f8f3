"""Issue 11 item 5: a throttle store outage is not a login outage. With Redis unreachable, logins work,
a warning is logged, and the per-process fallback counter still limits each client. Shop errors are HTML."""

import socket

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from ecommerce.throttling import throttle_cache
from ecommerce.views import server_error
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "Str0ng-Passw0rd!"


@pytest.fixture
def redis_down(settings):
    """The cache is a Redis on a port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: connections are refused
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    throttle_cache.fallback.clear()
    yield
    throttle_cache.fallback.clear()


def test_api_login_register_and_refresh_work_while_redis_is_down(redis_down, caplog):
    user = make_user(password=PASSWORD)
    client = APIClient()
    with caplog.at_level("WARNING", logger="ecommerce.throttling"):
        login = client.post("/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
        register = client.post(
            "/auth/register", {"name": "N", "email": "new@example.com", "password": PASSWORD}, format="json"
        )
        refresh = client.post("/auth/refresh", {"refresh": login.json()["refresh"]}, format="json")
    assert (login.status_code, register.status_code, refresh.status_code) == (200, 202, 200)
    assert any("fall back to per-process counters" in r.getMessage() for r in caplog.records)


def test_the_fallback_still_limits_each_client(redis_down):
    client = APIClient()
    statuses = [
        client.post("/auth/login", {"email": f"x{n}@example.com", "password": "x"}, format="json").status_code
        for n in range(11)
    ]
    assert statuses == [401] * 10 + [429]


def test_the_account_lockout_falls_back_too(redis_down, settings):
    user = make_user(password=PASSWORD)
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        APIClient().post(
            "/auth/login", {"email": user.email, "password": "x"}, format="json", REMOTE_ADDR=f"10.1.0.{n}"
        )
    response = APIClient().post("/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.json()["errors"][0]["code"] == "login_locked"


def test_shop_login_works_while_redis_is_down(redis_down):
    user = make_user(password=PASSWORD)
    client = Client()
    response = client.post("/shop/account/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.id)


def test_shop_errors_are_html_pages_and_api_errors_json():
    shop_404 = Client().get("/shop/no-such-page/")
    assert shop_404.status_code == 404
    assert shop_404["Content-Type"].startswith("text/html")
    api_404 = Client().get("/no-such-endpoint")
    assert api_404.json()["errors"][0]["code"] == "not_found"


def test_a_shop_crash_is_an_html_page():
    response = server_error(RequestFactory().get("/shop/cart/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"Something went wrong" in response.content
