"""A customer's account in a real browser, with the emails the server sent: register and confirm the email,
change the password, forget it and reset it, download the data, and delete the account."""

import json
import re

import pytest

from tests.browser.test_shop_flow import PASSWORD, emailed_link, log_in, register

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the chromium fixture skips these tests (or fails them, with REQUIRE_BROWSER=1)
    Page = expect = None

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHANGED = "Changed-Passw0rd-browser"
RESET = "Reset-Passw0rd-browser"


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def test_the_account_lifecycle_from_sign_up_to_deletion(page: Page, shop_server):
    email = register(page, shop_server, name="Lia Lifecycle")

    # The account page says the email is confirmed and links the rest.
    page.get_by_role("link", name="Account").click()
    expect(page.locator("#email-status")).to_have_text("Yes")

    # Change the password: this browser stays signed in, and an email says so.
    page.get_by_role("link", name="Change your password").click()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(CHANGED)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed. Your other sessions are signed out.")).to_be_visible()
    assert shop_server.emails_to(email)[-1]["Subject"].startswith("Your password was changed")
    log_out(page)

    # Forgot it: the reset link from the email sets a new one, once.
    page.get_by_role("link", name="Log in").click()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    reset_link = emailed_link(shop_server, email)
    page.goto(reset_link)
    page.get_by_label("New password").fill(RESET)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password is changed. Log in with it.")).to_be_visible()
    page.goto(reset_link)
    page.get_by_label("New password").fill("Another-Passw0rd-browser")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert")).to_contain_text("was used already")

    # The old password no longer works; the new one does.
    page.goto("/shop/account/login/")
    log_in(page, email, CHANGED)
    expect(page.get_by_role("alert")).to_have_text("No active account matches this email and password.")
    log_in(page, email, RESET)
    expect(page.get_by_text("Welcome back, Lia Lifecycle.")).to_be_visible()

    # Download the data.
    page.get_by_role("link", name="Account").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your data").click()
    assert re.fullmatch(r"my-shop-data-\d{4}-\d{2}-\d{2}\.json", download.value.suggested_filename)
    data = json.loads(download.value.path().read_text())
    assert data["profile"]["email"] == email and data["profile"]["emailVerified"] is True

    # Delete the account: confirmed with the password, then signed out for good.
    page.get_by_role("link", name="Delete your account").click()
    page.get_by_label("Your password").fill(RESET)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account is deleted.")).to_be_visible()
    assert shop_server.emails_to(email)[-1]["Subject"].startswith("Your account is deleted")
    page.get_by_role("link", name="Log in").click()
    log_in(page, email, RESET)
    expect(page.get_by_role("alert")).to_have_text("No active account matches this email and password.")
