"""Findings 2 and 3: rate limits key on the real client (X-Forwarded-For is ignored unless proxies are
trusted), and one per-account limit on failed logins covers the API, the shop and the admin."""

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from accounts import services as accounts
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "Str0ng-Passw0rd!"
_addresses = (f"10.0.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def api_login(email: str, password: str, **headers):
    """A login from a new client address each time (as a botnet would): only the account limit applies."""
    return APIClient().post(
        "/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=next(_addresses), **headers
    )


def shop_login(email: str, password: str) -> tuple[Client, object]:
    client = Client()
    response = client.post("/shop/account/login/", {"email": email, "password": password}, REMOTE_ADDR=next(_addresses))
    return client, response


def admin_login(email: str, password: str) -> tuple[Client, object]:
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": email, "password": password}, REMOTE_ADDR=next(_addresses)
    )
    return client, response


@pytest.fixture
def victim():
    return make_user(password=PASSWORD)


@pytest.fixture
def staff_victim():
    user = make_user(password=PASSWORD)
    get_user_model().objects.filter(pk=user.id).update(is_staff=True, is_superuser=True)
    return user


def test_forged_x_forwarded_for_does_not_escape_the_auth_throttle(settings):
    """Finding 2: a new X-Forwarded-For per request used to reset the per-client limit (10/min)."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}  # NUM_PROXIES 0: the default
    client = APIClient()
    statuses = []
    for n in range(11):  # password spraying: one guess per account, so only the client limit applies
        response = client.post(
            "/auth/login",
            {"email": f"sprayed{n}@example.com", "password": "guess"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
        statuses.append(response.status_code)
    assert statuses == [401] * 10 + [429]
    assert response.json()["errors"][0]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_the_shop_login_and_register_share_the_client_limit_and_ignore_x_forwarded_for():
    client = Client()
    for n in range(6):
        client.post(
            "/shop/account/login/", {"email": f"s{n}@example.com", "password": "x"}, HTTP_X_FORWARDED_FOR=str(n)
        )
    for n in range(4):
        client.post("/shop/account/register/", {"name": "N", "email": "bad"}, HTTP_X_FORWARDED_FOR=f"9.9.9.{n}")
    response = client.post(
        "/shop/account/login/", {"email": "a@example.com", "password": "x"}, HTTP_X_FORWARDED_FOR="1"
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_with_one_trusted_proxy_the_address_it_forwards_is_the_client(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        client = APIClient()
        for n in range(11):
            response = client.post(
                "/auth/login",
                {"email": f"p{n}@example.com", "password": "guess"},
                format="json",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            )
            assert response.status_code == 401  # each is a different client behind our proxy
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
        api_settings.reload()


def test_api_locks_an_account_after_repeated_failures_even_from_many_addresses(victim, settings):
    statuses = [api_login(victim.email, "wrong-guess").status_code for _ in range(settings.LOGIN_FAILURE_LIMIT)]
    assert statuses == [401] * settings.LOGIN_FAILURE_LIMIT
    response = api_login(victim.email, PASSWORD)  # the right password, once locked
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "login_locked"
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_LOCKOUT_MINUTES * 60
    assert "access" not in response.json()


def test_the_lockout_is_per_email_whatever_its_letter_case_and_ends(victim, settings, time_machine):
    time_machine.move_to("2030-01-01T00:00:00Z", tick=False)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        api_login(victim.email.upper(), "wrong-guess")
    assert api_login(victim.email, PASSWORD).status_code == 429
    other = make_user(password=PASSWORD)
    assert api_login(other.email, PASSWORD).status_code == 200
    time_machine.move_to("2030-01-01T00:15:01Z", tick=False)
    assert api_login(victim.email, PASSWORD).status_code == 200


def test_a_successful_login_resets_the_failure_count(victim, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        api_login(victim.email, "wrong-guess")
    assert api_login(victim.email, PASSWORD).status_code == 200
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert api_login(victim.email, "wrong-guess").status_code == 401
    assert api_login(victim.email, PASSWORD).status_code == 200


def test_unknown_emails_lock_the_same_way_so_a_lockout_reveals_no_account(settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        api_login("nobody@example.com", "x")
    assert api_login("nobody@example.com", "x").json()["errors"][0]["code"] == "login_locked"


def test_shop_login_is_locked_by_failures_and_refuses_the_right_password(victim, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        shop_login(victim.email, "wrong-guess")
    client, response = shop_login(victim.email, PASSWORD)
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_admin_login_is_limited(staff_victim, settings):
    """Finding 3: 40 wrong superuser passwords, then a session. Now the account locks after the limit."""
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _, response = admin_login(staff_victim.email, "wrong-guess")
        assert response.status_code == 200
    client, response = admin_login(staff_victim.email, PASSWORD)
    assert response.status_code == 200  # the login form again, not a redirect into the admin
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_failures_on_api_shop_and_admin_add_up_to_one_lockout(staff_victim, settings):
    channels = itertools.cycle(
        [
            lambda: api_login(staff_victim.email, "w"),
            lambda: shop_login(staff_victim.email, "w"),
            lambda: admin_login(staff_victim.email, "w"),
        ]
    )
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        next(channels)()
    assert api_login(staff_victim.email, PASSWORD).status_code == 429
    assert shop_login(staff_victim.email, PASSWORD)[1].status_code == 429
    assert "_auth_user_id" not in admin_login(staff_victim.email, PASSWORD)[0].session


def test_failed_logins_are_logged_with_account_and_request_id(victim, caplog):
    """Finding 19: a security event per failed login, with the account and the request id."""
    with caplog.at_level("WARNING", logger="ecommerce.security"):
        api_login(victim.email, "wrong", HTTP_X_REQUEST_ID="req-api-1")
        Client().post("/admin/login/", {"username": victim.email, "password": "w"}, HTTP_X_REQUEST_ID="req-admin-1")
        Client().post("/shop/account/login/", {"email": victim.email, "password": "w"}, HTTP_X_REQUEST_ID="req-shop-1")
    lines = [r.getMessage() for r in caplog.records if r.name == "ecommerce.security"]
    for request_id in ["req-api-1", "req-admin-1", "req-shop-1"]:
        assert any(
            "event=login_failed" in line and f"account={victim.email}" in line and f"request_id={request_id}" in line
            for line in lines
        ), lines


def test_service_refuses_a_locked_account_with_retry_after(victim, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        with pytest.raises(accounts.InvalidCredentials):
            accounts.authenticate_user(email=victim.email, password="wrong")
    with pytest.raises(accounts.LoginLocked) as locked:
        accounts.authenticate_user(email=victim.email, password=PASSWORD)
    assert locked.value.extra["retry_after"] > 0
