"""Token rules (finding 12 of issue 17): a reused refresh token ends every session, a session has an absolute
limit, and a deactivated or demoted user is refused on the next request, without a user query per request."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as accounts
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
PASSWORD = "Str0ng-Passw0rd!"  # make_user's


def sign_in(user) -> dict:
    response = APIClient().post("/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(token: str):
    return APIClient().post("/auth/refresh", {"refresh": token}, format="json")


def code(response) -> str:
    return response.json()["errors"][0]["code"]


def stored(user):
    return get_user_model().objects.get(pk=user.id)


def test_reusing_a_rotated_refresh_token_ends_every_session_of_the_account(customer):
    laptop, phone = sign_in(customer), sign_in(customer)
    rotated = refresh(laptop["refresh"]).json()  # the owner's rotation; a thief kept the old token

    reused = refresh(laptop["refresh"])
    assert (reused.status_code, code(reused)) == (401, "refresh_token_reused")
    for token in (rotated["refresh"], phone["refresh"]):
        refused = refresh(token)
        assert (refused.status_code, code(refused)) == (401, "token_revoked")
    for access in (rotated["access"], phone["access"]):
        refused = bearer(access).get("/auth/me")
        assert (refused.status_code, code(refused)) == (401, "token_revoked")
    assert bearer(sign_in(customer)["access"]).get("/auth/me").status_code == 200  # a new sign-in works


def test_an_old_token_of_an_ended_session_does_not_end_the_new_one(customer):
    old = sign_in(customer)
    refresh(old["refresh"])
    assert code(refresh(old["refresh"])) == "refresh_token_reused"
    new = sign_in(customer)
    assert code(refresh(old["refresh"])) == "token_revoked"  # the thief retrying cannot sign the owner out again
    assert refresh(new["refresh"]).status_code == 200


def test_a_session_ends_its_maximum_age_after_sign_in_however_often_it_is_refreshed(customer):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        token = sign_in(customer)["refresh"]
        for _ in range(4):  # every 6 days (each refresh token alone lives 7), to day 24
            clock.shift(timedelta(days=6))
            rotated = refresh(token)
            assert rotated.status_code == 200
            token = rotated.json()["refresh"]
        clock.shift(timedelta(days=5, hours=23))  # 29 days 23 hours after sign-in: still in the session
        token = refresh(token).json()["refresh"]
        clock.shift(timedelta(hours=1, seconds=1))
        expired = refresh(token)
    assert (expired.status_code, code(expired)) == (401, "token_not_valid")


@override_settings(REFRESH_TOKEN_MAX_AGE_DAYS=1)
def test_the_maximum_age_is_a_setting(customer):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        token = sign_in(customer)["refresh"]
        clock.shift(timedelta(hours=23))
        token = refresh(token).json()["refresh"]
        clock.shift(timedelta(hours=1, seconds=1))
        assert refresh(token).status_code == 401


def test_a_deactivated_user_is_refused_on_the_next_request(customer):
    tokens = sign_in(customer)
    client = bearer(tokens["access"])
    assert client.get("/auth/me").status_code == 200
    user = stored(customer)
    user.is_active = False
    user.save()  # as the admin's user page does
    refused = client.get("/cart")
    assert (refused.status_code, code(refused)) == (401, "token_revoked")
    assert refresh(tokens["refresh"]).status_code == 401
    user.is_active = True
    user.save()
    assert code(refresh(tokens["refresh"])) == "token_revoked"  # coming back does not revive the old sessions


def test_a_demoted_staff_user_loses_staff_rights_at_once_and_refreshes_into_a_customer(staff, product):
    tokens = sign_in(staff)
    client = bearer(tokens["access"])
    assert client.patch(f"/products/{product.id}", {"price": "2.00"}, format="json").status_code == 200
    user = stored(staff)
    user.is_staff = user.is_superuser = False
    user.save(update_fields=["is_staff", "is_superuser"])
    refused = client.patch(f"/products/{product.id}", {"price": "3.00"}, format="json")
    assert (refused.status_code, code(refused)) == (401, "token_revoked")
    customer_again = bearer(refresh(tokens["refresh"]).json()["access"])
    assert customer_again.patch(f"/products/{product.id}", {"price": "3.00"}, format="json").status_code == 403
    assert customer_again.get("/cart").status_code == 200


def test_a_role_taken_away_or_narrowed_takes_effect_at_once(catalog_manager, product):
    role = Group.objects.get(name="Catalog managers")
    client = client_for(catalog_manager)
    assert client.patch(f"/products/{product.id}", {"price": "2.00"}, format="json").status_code == 200
    role.permissions.remove(role.permissions.get(codename="change_product"))
    assert code(client.patch(f"/products/{product.id}", {"price": "3.00"}, format="json")) == "token_revoked"

    client = client_for(catalog_manager)
    assert client.patch(f"/inventory/{product.id}", {"adjustBy": 1}, format="json").status_code == 200
    stored(catalog_manager).groups.remove(role)
    assert code(client.patch(f"/inventory/{product.id}", {"adjustBy": 1}, format="json")) == "token_revoked"


def test_a_change_that_does_not_touch_rights_keeps_the_session(customer):
    client = client_for(customer)
    user = stored(customer)
    user.name = "Carla C."
    user.save()
    assert client.get("/auth/me").status_code == 200


def test_revoke_sessions_ends_every_session_and_a_new_pair_works(customer):
    old = accounts.issue_tokens(user_id=customer.id)
    accounts.revoke_sessions(user_id=customer.id)
    assert code(bearer(old.access).get("/auth/me")) == "token_revoked"
    assert code(refresh(old.refresh)) == "token_revoked"
    new = accounts.issue_tokens(user_id=customer.id)
    assert bearer(new.access).get("/auth/me").status_code == 200


def test_the_revocation_check_reads_the_user_once_then_the_cache(customer, django_assert_num_queries):
    from django.core.cache import cache

    client = client_for(customer)
    cache.clear()  # as after the cache entry expired
    with django_assert_num_queries(2):  # the user's versions, then the /auth/me lookup itself
        assert client.get("/auth/me").status_code == 200
    with django_assert_num_queries(1):  # /auth/me alone
        assert client.get("/auth/me").status_code == 200
