"""The shop's account pages: verifying the email from its link, password change, forgotten password."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import make_user
from tests.emails import token_in
from tests.storefront.conftest import PASSWORD, logged_in
from tests.storefront.test_pages import html

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Fresh-Staple-Lantern-9"


def emailed_link() -> str:
    """The path and query of the link in the latest email (the page it opens)."""
    link = urlsplit(re.search(r"http://\S+", mail.outbox[-1].body).group(0))
    return f"{link.path}?{link.query}"


def test_the_verification_link_opens_a_button_that_confirms_the_email(visitor):
    visitor.post("/shop/account/register/", {"name": "Nina", "email": "nina@example.com", "password": PASSWORD})
    token = token_in(mail.outbox[-1].body)
    landing = visitor.get(emailed_link())
    assert landing.status_code == 200 and f'value="{token}"' in html(landing)  # a GET changes nothing
    confirmed = visitor.post("/shop/account/verify-email/", {"token": token}, follow=True)
    assert "Your email address is confirmed." in html(confirmed)
    assert confirmed.redirect_chain[-1][0] == "/shop/account/login/"
    again = visitor.post("/shop/account/verify-email/", {"token": token})
    assert again.status_code == 400 and "was used already" in html(again)


def test_an_unverified_shopper_sees_why_they_cannot_pay_and_gets_a_new_link(db):
    shopper = make_user(password=PASSWORD, verified=False)
    shop = logged_in(shopper)
    account = html(shop.get("/shop/account/"))
    assert "Not yet: you cannot pay" in account
    resent = shop.post("/shop/account/verify-email/resend/", follow=True)
    assert "We have sent you a new link" in html(resent)
    shop.post("/shop/account/verify-email/", {"token": token_in(mail.outbox[-1].body)})
    assert '<dd id="email-status">Yes</dd>' in html(shop.get("/shop/account/"))


def test_the_account_pages_need_a_login(visitor):
    for path in ("/shop/account/", "/shop/account/password/"):
        assert visitor.get(path)["Location"].startswith("/shop/account/login/?next=")


def test_changing_the_password_keeps_this_session_and_ends_the_others(shopper, shop):
    other_browser = logged_in(shopper)
    wrong = shop.post("/shop/account/password/", {"current_password": "nope", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 400 and "This is not your current password." in html(wrong)
    changed = shop.post(
        "/shop/account/password/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, follow=True
    )
    assert "Your password is changed." in html(changed)
    assert shop.get("/shop/account/").status_code == 200
    assert other_browser.get("/shop/account/").status_code == 302  # sent to the login page
    assert "Your password was changed" in mail.outbox[-1].subject


def test_forgot_password_answers_the_same_and_the_link_sets_a_new_password_once(visitor, shopper):
    known = visitor.post("/shop/account/forgot-password/", {"email": shopper.email})
    unknown = visitor.post("/shop/account/forgot-password/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert html(known).replace(shopper.email, "EMAIL") == html(unknown).replace("nobody@example.com", "EMAIL")
    (sent,) = mail.outbox
    token = token_in(sent.body)
    form = visitor.get(emailed_link())
    assert f'value="{token}"' in html(form)
    done = visitor.post("/shop/account/reset-password/", {"token": token, "new_password": NEW_PASSWORD}, follow=True)
    assert "Your password is changed. Log in with it." in html(done)
    assert visitor.login(email=shopper.email, password=NEW_PASSWORD)
    reused = Client().post("/shop/account/reset-password/", {"token": token, "new_password": "Another-0ne-here"})
    assert reused.status_code == 400 and "was used already" in html(reused)


def test_the_account_pages_are_throttled_like_the_login(visitor):
    statuses = [
        visitor.post("/shop/account/forgot-password/", {"email": "x@example.com"}).status_code for _ in range(11)
    ]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


def test_the_account_forms_need_csrf(shopper):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/shop/account/forgot-password/", {"email": shopper.email}).status_code == 403


def test_the_account_page_offers_the_data_as_a_file(shop, shopper):
    page = html(shop.get("/shop/account/"))
    assert 'href="/shop/account/export/" download' in page
    response = shop.get("/shop/account/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="my-shop-data-')
    data = response.json()
    assert data["profile"]["email"] == shopper.email and data["orders"] == [] and "exportedAt" in data


def test_deleting_the_account_asks_for_the_password_then_logs_out(shop, shopper):
    wrong = shop.post("/shop/account/delete/", {"password": "not-it"})
    assert wrong.status_code == 400 and "This is not your current password." in html(wrong)
    deleted = shop.post("/shop/account/delete/", {"password": PASSWORD}, follow=True)
    assert "Your account is deleted." in html(deleted)
    assert "Log out" not in html(deleted)
    assert not Client().login(email=shopper.email, password=PASSWORD)
