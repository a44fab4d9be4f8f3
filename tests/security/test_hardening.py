"""Issue 17's Medium and Low findings that are settings, headers and input handling: each test reproduces
the finding (over HTTP where it was found over HTTP) and fails without its fix."""

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rest_framework.test import APIClient

from accounts import services as accounts
from catalog import services as catalog
from tests.conftest import make_user
from tests.stripe_server import make_event, sign_webhook_payload

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
DEEP = b"[" * 50_000 + b"]" * 50_000


# --- 9: deeply nested JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/cart", "/order/checkout", "/payment"])
def test_deeply_nested_json_is_400_not_500(customer_client, path):
    response = customer_client.post(path, data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


def test_json_nested_just_deeper_than_the_limit_is_400(customer_client):
    body = json.dumps({"productId": 1, "quantity": 1, "x": json.loads("[" * 40 + "]" * 40)})
    assert customer_client.post("/cart", data=body, content_type="application/json").status_code == 400


# --- 10: log forging ---------------------------------------------------------------------------------


def test_a_newline_in_the_path_cannot_forge_a_log_line(caplog):
    with caplog.at_level("INFO", logger="ecommerce.request"):
        Client().get("/products%0a2026-01-01 INFO ecommerce.request GET /admin/ 200")
    lines = [r.getMessage() for r in caplog.records if r.name == "ecommerce.request"]
    assert lines and all("\n" not in line and "\r" not in line for line in lines)
    assert any("\\n2026-01-01" in line for line in lines)


# --- 11: Content-Security-Policy -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/shop/", "/admin/login/", "/api/docs", "/api/redoc", "/products"])
def test_pages_carry_a_content_security_policy_without_inline_scripts(path):
    response = Client().get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_swagger_ui_loads_its_script_from_a_url_not_inline():
    page = Client().get("/api/docs").content.decode()
    assert "<script>" not in page
    assert Client().get("/api/docs?script=").status_code == 200


# --- 5: the token blacklist admin ------------------------------------------------------------------------


def test_the_token_admin_never_shows_a_refresh_token(customer):
    refresh = accounts.issue_tokens(user_id=customer.id).refresh
    admin = make_user(staff=True)
    get_user_model().objects.filter(pk=admin.id).update(is_superuser=True)
    browser = Client()
    browser.force_login(get_user_model().objects.get(pk=admin.id))
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    token_id = OutstandingToken.objects.get(jti=RefreshToken(refresh)["jti"]).pk
    listing = browser.get("/admin/token_blacklist/outstandingtoken/")
    detail = browser.get(f"/admin/token_blacklist/outstandingtoken/{token_id}/change/")
    assert listing.status_code == detail.status_code == 200
    for page in (listing, detail):
        assert refresh.encode() not in page.content
        assert refresh.split(".")[2].encode() not in page.content  # not even the signature


# --- 17: stock of hidden products ------------------------------------------------------------------------


def test_customers_do_not_see_the_stock_of_hidden_products(customer_client, staff_client, product):
    catalog.deactivate_product(product_id=product.id)
    assert customer_client.get(f"/products/{product.id}").status_code == 404
    assert customer_client.get(f"/inventory/{product.id}").status_code == 404
    assert staff_client.get(f"/inventory/{product.id}").status_code == 200
    catalog.update_product(product_id=product.id, is_active=True)
    assert customer_client.get(f"/inventory/{product.id}").status_code == 200


def test_a_product_hidden_through_the_api_hides_its_stock(customer_client, staff_client, product):
    assert staff_client.patch(f"/products/{product.id}", {"isActive": False}, format="json").status_code == 200
    assert customer_client.get(f"/inventory/{product.id}").status_code == 404


# --- 18: staff sessions --------------------------------------------------------------------------------------


def browser_of(staff) -> Client:
    browser = Client()
    browser.force_login(get_user_model().objects.get(pk=staff.id))
    return browser


def test_staff_sessions_end_after_30_minutes_idle(staff, time_machine):
    time_machine.move_to("2030-01-01T09:00:00Z", tick=False)
    staff_browser = browser_of(staff)
    assert staff_browser.get("/admin/").status_code == 200
    time_machine.move_to("2030-01-01T09:29:00Z", tick=False)
    assert staff_browser.get("/admin/").status_code == 200
    time_machine.move_to("2030-01-01T10:00:00Z", tick=False)
    assert staff_browser.get("/admin/").status_code == 302  # to the login page


def test_staff_sessions_end_12_hours_after_login_however_active(staff, time_machine):
    time_machine.move_to("2030-01-01T08:00:00Z", tick=False)
    staff_browser = browser_of(staff)
    assert staff_browser.get("/admin/").status_code == 200
    for hour in range(8, 20):
        for minute in (0, 20, 40):
            time_machine.move_to(f"2030-01-01T{hour:02d}:{minute:02d}:00Z", tick=False)
            assert staff_browser.get("/admin/").status_code == 200
    time_machine.move_to("2030-01-01T20:01:00Z", tick=False)
    assert staff_browser.get("/admin/").status_code == 302


# --- 20: forwarded protocol and webhook timestamps -------------------------------------------------------------


def test_x_forwarded_proto_from_a_client_is_not_trusted(settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/products", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_a_webhook_signed_in_the_future_is_400(anon_client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
    payload = json.dumps(make_event("evt_future", "charge.refunded", {"id": "ch_1"})).encode()
    signature = sign_webhook_payload(payload, "whsec_test_secret", int(time.time()) + 3600)
    response = anon_client.post(
        "/payment/webhook", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400


# --- 13: passwords ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["Sh0rt-Pass1", "Sh0pping2024!", "Welcome123456", "Customer-2025"])
def test_short_and_shop_common_passwords_are_refused(password):
    response = APIClient().post(
        "/auth/register", {"name": "N", "email": "n@example.com", "password": password}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "password"


# --- 14, 15: demo staff and the .env file --------------------------------------------------------------------


def test_no_demo_staff_in_production_unless_allowed(settings, capsys):
    settings.DEBUG, settings.ALLOW_DEMO_STAFF = False, False
    call_command("ensure_demo_staff")
    assert not get_user_model().objects.filter(is_staff=True).exists()
    settings.ALLOW_DEMO_STAFF = True
    call_command("ensure_demo_staff")
    assert get_user_model().objects.filter(is_staff=True).count() == 1


def test_a_weak_demo_staff_password_is_refused(settings, monkeypatch):
    settings.ALLOW_DEMO_STAFF = True
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "123")
    with pytest.raises(CommandError):
        call_command("ensure_demo_staff")
    assert not get_user_model().objects.filter(is_staff=True).exists()


def test_make_writes_env_readable_by_its_owner_only(tmp_path):
    subprocess.run(["make", "-f", str(ROOT / "Makefile"), ".env"], cwd=tmp_path, check=True, capture_output=True)
    env_file = tmp_path / ".env"
    assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
    text = env_file.read_text()
    assert "ALLOW_DUMMY_GATEWAY=true" in text and "SECRET_KEY=" in text
