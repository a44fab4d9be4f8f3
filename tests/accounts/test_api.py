import time
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from tests.conftest import client_for

pytestmark = pytest.mark.django_db
PASSWORD = "Corr3ct-Horse-Battery"


def register(client, email="ann@example.com", password=PASSWORD, **extra):
    return client.post("/auth/register", {"name": "Ann", "email": email, "password": password, **extra}, format="json")


def sign_up(client, email="ann@example.com", password=PASSWORD) -> dict:
    """Register, then sign in (registration answers 202 without tokens): the sign-in's body."""
    assert register(client, email=email, password=password).status_code == 202
    response = client.post("/auth/login", {"email": email, "password": password}, format="json")
    assert response.status_code == 200
    return response.json()


def first_error(response):
    return response.json()["errors"][0]


def test_register_answers_202_then_sign_in_returns_user_and_tokens(anon_client):
    response = register(anon_client, email="Ann@Example.COM")
    assert response.status_code == 202
    assert set(response.json()) == {"detail"}
    body = anon_client.post("/auth/login", {"email": "ann@example.com", "password": PASSWORD}, format="json").json()
    assert body["user"]["email"] == "ann@example.com"
    assert body["user"]["isStaff"] is False
    assert body["user"]["emailVerified"] is False
    assert set(body["user"]) == {"id", "name", "email", "isStaff", "dateJoined", "emailVerified"}
    assert body["token"] == body["access"]
    assert body["refresh"]
    assert "password" not in str(body)
    stored = get_user_model().objects.get()
    assert stored.email == "ann@example.com"
    assert stored.check_password(PASSWORD)


def test_register_ignores_staff_flag(anon_client):
    response = register(anon_client, isStaff=True, is_staff=True, isSuperuser=True)
    assert response.status_code == 202
    user = get_user_model().objects.get()
    assert not user.is_staff and not user.is_superuser


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "ann@example.com"])
def test_weak_password_is_400_on_password(anon_client, password):
    response = register(anon_client, password=password)
    assert response.status_code == 400
    assert first_error(response)["attr"] == "password"
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    "body, attr",
    [
        ({"email": "a@example.com", "password": PASSWORD}, "name"),
        ({"name": "A", "email": "not-an-email", "password": PASSWORD}, "email"),
        ({"name": "A", "email": "a@example.com"}, "password"),
        ({"name": "A" * 151, "email": "a@example.com", "password": PASSWORD}, "name"),
    ],
)
def test_register_validation(anon_client, body, attr):
    response = anon_client.post("/auth/register", body, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert first_error(response)["attr"] == attr


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "null"])
def test_malformed_json_is_400_never_500(anon_client, body):
    response = anon_client.post("/auth/register", body, content_type="application/json")
    assert response.status_code == 400
    assert first_error(response)["code"] in {"parse_error", "invalid", "required", "null"}


def test_login_and_me(anon_client):
    assert register(anon_client).status_code == 202
    response = anon_client.post("/auth/login", {"email": "ANN@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == body["access"]
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = anon_client.get("/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ann@example.com"


def test_wrong_password_and_unknown_email_are_the_same_401(anon_client):
    register(anon_client)
    wrong_password = anon_client.post("/auth/login", {"email": "ann@example.com", "password": "nope"}, format="json")
    unknown_email = anon_client.post("/auth/login", {"email": "who@example.com", "password": "nope"}, format="json")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert first_error(wrong_password)["code"] == "invalid_credentials"


def test_inactive_user_cannot_log_in(anon_client):
    register(anon_client)
    get_user_model().objects.update(is_active=False)
    response = anon_client.post("/auth/login", {"email": "ann@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 401


def test_eleventh_login_in_a_minute_is_429_with_retry_after(anon_client):
    register(anon_client)
    statuses = [
        anon_client.post("/auth/login", {"email": "ann@example.com", "password": "bad"}, format="json").status_code
        for _ in range(10)
    ]
    assert statuses.count(401) == 9  # the register call counted too
    assert statuses[-1] == 429
    response = anon_client.post("/auth/login", {"email": "ann@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert first_error(response)["code"] == "throttled"


def test_register_is_throttled_too(anon_client):
    statuses = [register(anon_client, email=f"u{i}@example.com").status_code for i in range(11)]
    assert statuses[:10] == [202] * 10
    assert statuses[10] == 429


def test_refresh_rotates_and_blacklists_the_old_token(anon_client):
    refresh = sign_up(anon_client)["refresh"]
    response = anon_client.post("/auth/refresh", {"refresh": refresh}, format="json")
    assert response.status_code == 200
    new = response.json()
    assert new["access"] and new["refresh"] and new["refresh"] != refresh
    assert anon_client.post("/auth/refresh", {"refresh": new["refresh"]}, format="json").status_code == 200
    reused = anon_client.post("/auth/refresh", {"refresh": refresh}, format="json")
    assert reused.status_code == 401
    assert first_error(reused)["code"] == "refresh_token_reused"  # tests/accounts/test_tokens.py: what follows


def test_refresh_rejects_an_access_token_and_garbage(anon_client):
    access = sign_up(anon_client)["access"]
    assert anon_client.post("/auth/refresh", {"refresh": access}, format="json").status_code == 401
    assert anon_client.post("/auth/refresh", {"refresh": "garbage"}, format="json").status_code == 401
    assert anon_client.post("/auth/refresh", {}, format="json").status_code == 400


def test_logout_blacklists_the_refresh_token(anon_client):
    tokens = sign_up(anon_client)
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anon_client.post("/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    response = anon_client.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 401


def test_logout_needs_authentication_and_own_token(anon_client, customer):
    tokens = sign_up(anon_client)
    assert anon_client.post("/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    someone_else = client_for(customer)
    assert someone_else.post("/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert anon_client.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 200


def test_me_without_token_is_401(anon_client):
    response = anon_client.get("/auth/me")
    assert response.status_code == 401
    assert first_error(response)["code"] == "not_authenticated"


def test_expired_access_token_is_401(anon_client, customer):
    token = AccessToken()
    token["user_id"] = customer.id
    token.set_exp(lifetime=-timedelta(seconds=1))
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = anon_client.get("/auth/me")
    assert response.status_code == 401
    assert first_error(response)["code"] == "token_not_valid"


def test_tampered_token_is_401(anon_client, customer, settings):
    access = sign_up(anon_client)["access"]
    claims = jwt.decode(access, options={"verify_signature": False})
    claims["is_staff"] = True
    forged_with_wrong_key = jwt.encode(claims, "not-the-key", algorithm="HS256")
    header, _payload, signature = access.split(".")
    edited_payload = jwt.encode(claims, settings.SECRET_KEY + "x", algorithm="HS256").split(".")[1]
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token in [forged_with_wrong_key, f"{header}.{edited_payload}.{signature}", unsigned, "a.b.c", access[:-3]]:
        anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert anon_client.get("/auth/me").status_code == 401, token


def test_access_token_carries_user_id_and_staff_claims(staff):
    client = client_for(staff)
    token = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["user_id"] == str(staff.id)
    assert claims["is_staff"] is True
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["exp"] > time.time()


def test_routes_work_with_and_without_trailing_slash(anon_client):
    assert register(anon_client).status_code == 202
    body = {"email": "ann@example.com", "password": PASSWORD}
    assert anon_client.post("/auth/login/", body, format="json").status_code == 200
    assert anon_client.post("/auth/login", body, format="json").status_code == 200


def test_method_not_allowed_is_405_in_the_envelope(anon_client):
    response = anon_client.get("/auth/login")
    assert response.status_code == 405
    assert first_error(response)["code"] == "method_not_allowed"


@override_settings(AUTH_PASSWORD_VALIDATORS=[])
def test_email_is_unique_case_insensitively_in_the_database(db):
    from django.db import IntegrityError

    from ecommerce.db import atomic

    user_model = get_user_model()
    user_model.objects.create_user(email="x@example.com", password="p", name="X")
    with pytest.raises(IntegrityError), atomic("accounts"):
        user_model.objects.bulk_create([user_model(email="X@EXAMPLE.COM", name="Y", password="p")])


def test_authenticated_caller_is_read_from_claims_without_a_user_query(customer, django_assert_num_queries):
    client = client_for(customer)
    with django_assert_num_queries(1):  # the /auth/me lookup itself, none for authentication
        assert client.get("/auth/me").json()["id"] == customer.id
