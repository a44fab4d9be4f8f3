"""The account lifecycle over HTTP: registration that tells nobody who has an account, email verification
(unverified accounts cannot pay), password change and reset. Emails are read from Django's test outbox."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import override_settings
from rest_framework.test import APIClient

from tests.conftest import client_for, make_product, make_user
from tests.emails import token_in
from tests.payments.conftest import place_order

pytestmark = pytest.mark.django_db
PASSWORD = "Corr3ct-Horse-Battery"
NEW_PASSWORD = "Fresh-Staple-Lantern-9"


class CountingHasher(MD5PasswordHasher):
    """A hasher that counts the passwords it hashes (the costly work a registration does)."""

    algorithm = "counting_md5"
    hashed = 0

    def encode(self, password, salt):
        CountingHasher.hashed += 1
        return super().encode(password, salt)


def post(client, path, body):
    return client.post(path, body, format="json")


def register(client, email="ann@example.com", name="Ann", password=PASSWORD):
    return post(client, "/auth/register", {"name": name, "email": email, "password": password})


def login(client, email="ann@example.com", password=PASSWORD):
    return post(client, "/auth/login", {"email": email, "password": password})


def error(response) -> tuple[str, str | None]:
    first = response.json()["errors"][0]
    return first["code"], first["attr"]


def emails_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def signed_in(client, email="ann@example.com", password=PASSWORD) -> dict:
    response = login(client, email, password)
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return response.json()


# --- Registration: the same answer for new and existing emails -----------------------------------------


@override_settings(PASSWORD_HASHERS=["tests.accounts.test_lifecycle.CountingHasher"])
def test_registering_a_new_or_a_taken_email_answers_the_same_and_emails_the_owner(anon_client):
    CountingHasher.hashed = 0
    new = register(anon_client, email="ann@example.com")
    hashed_for_new = CountingHasher.hashed
    taken = register(anon_client, email="ANN@example.com", name="Mallory", password="Another-Passw0rd-x")

    assert new.status_code == taken.status_code == 202
    assert new.json() == taken.json()
    assert hashed_for_new == CountingHasher.hashed - hashed_for_new == 1  # the same hashing work either way
    assert get_user_model().objects.count() == 1
    verification, notice = emails_to("ann@example.com")
    assert "Confirm your email address" in verification.subject
    assert "http://testserver/shop/account/verify-email/?token=" in verification.body
    assert "already have an account" in notice.body
    assert "http://testserver/shop/account/reset-password/?token=" in notice.body
    assert login(anon_client, password="Another-Passw0rd-x").status_code == 401  # nothing changed
    assert login(anon_client).json()["user"]["name"] == "Ann"


def test_a_weak_password_is_refused_whether_or_not_the_email_has_an_account(anon_client):
    register(anon_client)
    for email in ("ann@example.com", "bob@example.com"):
        response = register(anon_client, email=email, password="password123")
        assert response.status_code == 400
        assert error(response) == ("password_too_short", "password")


def test_links_point_at_public_url_when_it_is_set(anon_client, settings):
    settings.PUBLIC_URL = "https://shop.example.com"
    register(anon_client, email="ann@example.com")
    assert "https://shop.example.com/shop/account/verify-email/?token=" in mail.outbox[0].body


# --- Email verification ----------------------------------------------------------------------------------


def test_an_unverified_account_signs_in_and_fills_a_cart_but_cannot_pay_until_it_follows_the_link(anon_client):
    product = make_product(price="5.00", stock=3)
    register(anon_client)
    assert signed_in(anon_client)["user"]["emailVerified"] is False
    assert post(anon_client, "/cart", {"productId": product.id, "quantity": 1}).status_code == 200
    order = post(anon_client, "/order/checkout", {}).json()

    refused = post(anon_client, "/payment", {"orderId": order["id"], "token": "tok_visa"})
    assert refused.status_code == 403
    assert error(refused) == ("email_not_verified", None)

    token = token_in(emails_to("ann@example.com")[0].body)
    verified = post(APIClient(), "/auth/verify-email", {"token": token})
    assert verified.status_code == 200
    assert anon_client.get("/auth/me").json()["emailVerified"] is True
    assert post(anon_client, "/payment", {"orderId": order["id"], "token": "tok_visa"}).status_code == 201


def test_a_verification_link_works_once(anon_client):
    register(anon_client)
    token = token_in(mail.outbox[0].body)
    assert post(anon_client, "/auth/verify-email", {"token": token}).status_code == 200
    again = post(anon_client, "/auth/verify-email", {"token": token})
    assert again.status_code == 400
    assert error(again) == ("invalid_token", "token")


@pytest.mark.parametrize("token", ["", "garbage", "1:abc:def", "W1sxLCJ4Il0:1t:forged"])
def test_a_forged_or_garbled_verification_token_is_400(anon_client, token):
    response = post(anon_client, "/auth/verify-email", {"token": token})
    assert response.status_code == 400
    assert error(response)[0] in {"invalid_token", "blank"}


def test_an_expired_verification_link_is_refused(anon_client, settings):
    register(anon_client)
    settings.EMAIL_VERIFICATION_TIMEOUT = -1  # every link is older than that
    response = post(anon_client, "/auth/verify-email", {"token": token_in(mail.outbox[0].body)})
    assert error(response) == ("invalid_token", "token")


def test_a_new_link_can_be_asked_for_until_the_email_is_verified(anon_client):
    register(anon_client)
    signed_in(anon_client)
    resent = post(anon_client, "/auth/verify-email/resend", {})
    assert resent.status_code == 202
    _first, second = emails_to("ann@example.com")
    assert post(anon_client, "/auth/verify-email", {"token": token_in(second.body)}).status_code == 200
    already = post(anon_client, "/auth/verify-email/resend", {})
    assert already.status_code == 409
    assert error(already) == ("email_already_verified", None)
    assert post(APIClient(), "/auth/verify-email/resend", {}).status_code == 401


def test_staff_made_by_an_operator_are_verified(db):
    staff = get_user_model().objects.create_superuser(email="boss@example.com", password="x", name="Boss")
    assert staff.email_verified_at is not None


def test_a_verified_customer_pays(customer):
    client = client_for(customer)
    order = place_order(customer, make_product(price="5.00", stock=3), 1)
    assert post(client, "/payment", {"orderId": order.id, "token": "tok_visa"}).status_code == 201


# --- Password change ---------------------------------------------------------------------------------------


def test_changing_the_password_revokes_every_other_session_and_returns_fresh_tokens(anon_client):
    register(anon_client)
    other_session = login(anon_client).json()
    this_session = signed_in(anon_client)

    changed = post(anon_client, "/auth/me/password", {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})
    assert changed.status_code == 200
    body = changed.json()
    assert body["user"]["email"] == "ann@example.com" and body["access"] and body["refresh"]
    for old in (other_session, this_session):
        assert error(post(anon_client, "/auth/refresh", {"refresh": old["refresh"]}))[0] == "token_revoked"
    assert anon_client.get("/auth/me").status_code == 401  # the old access token too, at once
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert anon_client.get("/auth/me").status_code == 200
    assert post(anon_client, "/auth/refresh", {"refresh": body["refresh"]}).status_code == 200
    assert login(anon_client).status_code == 401
    assert login(anon_client, password=NEW_PASSWORD).status_code == 200
    assert "Your password was changed" in emails_to("ann@example.com")[-1].subject


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"currentPassword": "Not-My-Passw0rd!", "newPassword": NEW_PASSWORD}, ("wrong_password", "currentPassword")),
        ({"currentPassword": PASSWORD, "newPassword": "short"}, ("password_too_short", "newPassword")),
        ({"currentPassword": PASSWORD}, ("required", "newPassword")),
        ({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "isStaff": True}, ("unknown_field", "isStaff")),
    ],
)
def test_a_refused_password_change_changes_nothing(anon_client, body, expected):
    register(anon_client)
    session = signed_in(anon_client)
    response = post(anon_client, "/auth/me/password", body)
    assert response.status_code == 400
    assert error(response) == expected
    assert post(anon_client, "/auth/refresh", {"refresh": session["refresh"]}).status_code == 200
    assert login(anon_client).status_code == 200


def test_changing_the_password_needs_a_signed_in_user(anon_client):
    response = post(anon_client, "/auth/me/password", {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})
    assert response.status_code == 401


# --- Password reset ------------------------------------------------------------------------------------------


def test_asking_for_a_reset_answers_the_same_for_known_and_unknown_emails(anon_client):
    register(anon_client)
    mail.outbox.clear()
    known = post(anon_client, "/auth/password-reset", {"email": "ANN@example.com"})
    unknown = post(anon_client, "/auth/password-reset", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    (sent,) = mail.outbox
    assert sent.to == ["ann@example.com"] and "Reset your password" in sent.subject
    assert "valid 60 minutes" in sent.body


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(anon_client):
    register(anon_client)
    session = signed_in(anon_client)
    post(anon_client, "/auth/password-reset", {"email": "ann@example.com"})
    token = token_in(emails_to("ann@example.com")[-1].body)

    reset = post(anon_client, "/auth/password-reset/confirm", {"token": token, "newPassword": NEW_PASSWORD})
    assert reset.status_code == 200
    assert error(post(anon_client, "/auth/refresh", {"refresh": session["refresh"]}))[0] == "token_revoked"
    assert anon_client.get("/auth/me").status_code == 401
    assert login(anon_client).status_code == 401
    assert login(anon_client, password=NEW_PASSWORD).json()["user"]["emailVerified"] is True  # the link reached them

    reused = post(anon_client, "/auth/password-reset/confirm", {"token": token, "newPassword": "Yet-Another-0ne-x"})
    assert reused.status_code == 400
    assert error(reused) == ("invalid_token", "token")
    assert login(anon_client, password=NEW_PASSWORD).status_code == 200


def test_a_reset_link_expires_after_an_hour(anon_client, settings):
    register(anon_client)
    post(anon_client, "/auth/password-reset", {"email": "ann@example.com"})
    token = token_in(mail.outbox[-1].body)
    settings.PASSWORD_RESET_TIMEOUT = -1
    response = post(anon_client, "/auth/password-reset/confirm", {"token": token, "newPassword": NEW_PASSWORD})
    assert error(response) == ("invalid_token", "token")
    assert login(anon_client).status_code == 200


def test_a_verification_token_is_no_reset_token(anon_client):
    register(anon_client)
    token = token_in(mail.outbox[0].body)  # the verification link's
    response = post(anon_client, "/auth/password-reset/confirm", {"token": token, "newPassword": NEW_PASSWORD})
    assert error(response) == ("invalid_token", "token")


def test_a_weak_new_password_keeps_the_reset_link_usable(anon_client):
    register(anon_client)
    post(anon_client, "/auth/password-reset", {"email": "ann@example.com"})
    token = token_in(mail.outbox[-1].body)
    weak = post(anon_client, "/auth/password-reset/confirm", {"token": token, "newPassword": "short"})
    assert error(weak) == ("password_too_short", "newPassword")
    done = post(anon_client, "/auth/password-reset/confirm", {"token": token, "newPassword": NEW_PASSWORD})
    assert done.status_code == 200


def test_unverified_users_made_by_the_test_helper_cannot_pay(db):
    shopper = make_user(verified=False)
    order = place_order(shopper, make_product(price="5.00", stock=3), 1)
    response = post(client_for(shopper), "/payment", {"orderId": order.id, "token": "tok_visa"})
    assert error(response) == ("email_not_verified", None)
