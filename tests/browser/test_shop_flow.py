"""A shopper in a real browser: register, search, fill the cart, check out, a declined card, then pay, and see the
order with its timeline and its products' pictures."""

import re
import uuid

import pytest

from tests.browser.conftest import screenshot
from tests.e2e.harness import text_of

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the chromium fixture skips these tests (or fails them, with REQUIRE_BROWSER=1)
    Page = expect = None

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PASSWORD = "Str0ng-Passw0rd!"


def emailed_link(server, email: str) -> str:
    """The link of the latest email the server sent to ``email``."""
    return re.search(r"http://\S+", text_of(server.emails_to(email)[-1])).group(0)


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def register(page: Page, server, name: str = "Bea Browser") -> str:
    """Register, open the link the server emailed, confirm the address, and log in; the email."""
    email = f"bea-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/shop/")
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(emailed_link(server, email))
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_text("Your email address is confirmed. Thank you!")).to_be_visible()
    log_in(page, email)
    expect(page.get_by_role("status").filter(has_text=f"Welcome back, {name}.")).to_be_visible()
    return email


def search(page: Page, text: str) -> None:
    """Search with the keyboard: focus the field through its label, type, press Enter."""
    page.get_by_label("Search").fill(text)
    page.get_by_label("Search").press("Enter")


def test_a_guest_fills_a_cart_registers_checks_out_is_declined_then_pays(page: Page, shop_server, artifacts):
    page.goto("/shop/")
    expect(page.get_by_role("heading", name="Products", level=1)).to_be_visible()
    expect(page.get_by_text("20 products")).to_be_visible()
    # Every card shows its product's thumbnail (the demo pictures, served by the app from its storage).
    expect(page.locator("img.card-image")).to_have_count(12)  # the first page
    expect(page.get_by_role("img", name="The Pragmatic Programmer (demo picture)")).to_be_visible()
    # Predicates are functions: Playwright polls a bare expression with eval, which the shop's CSP forbids.
    page.wait_for_function(
        "() => [...document.images].filter(i => i.matches('.card-image')).slice(0, 4)"
        ".every(i => i.complete && i.naturalWidth === 480)"
    )
    screenshot(page, artifacts, "product-list")

    # The first product: found by search, added from its page with a quantity of 2.
    search(page, "keyboard")
    expect(page.get_by_text("1 product matching “keyboard”")).to_be_visible()
    page.get_by_role("link", name="Mechanical Keyboard").click()
    expect(page.get_by_role("heading", name="Mechanical Keyboard")).to_be_visible()
    expect(page.get_by_role("img", name="Mechanical Keyboard (demo picture)")).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.product-picture').naturalWidth === 800")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Mechanical Keyboard was added to your cart (2 items in the cart).")).to_be_visible()

    # The second: found by search and category, added straight from the list.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    search(page, "bottle")
    page.get_by_label("Category").select_option("Outdoor")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=bottle.*category=Outdoor"))
    page.get_by_role("button", name="Add to cart: Water Bottle").click()
    expect(page.get_by_text("Water Bottle was added to your cart (3 items in the cart).")).to_be_visible()
    expect(page.locator("#cart-count")).to_have_text("3")

    # Registering (then confirming the email and logging in) keeps the guest's cart.
    register(page, shop_server)
    expect(page.get_by_text("The items you chose are in your cart (3 items in the cart).")).to_be_visible()
    expect(page.locator("#cart-count")).to_have_text("3")

    page.get_by_role("link", name="Cart").click()
    rows = page.locator("table.lines tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#cart-subtotal")).to_have_text("$193.99")  # 2 x 89.00 + 15.99
    screenshot(page, artifacts, "cart")

    # Change a quantity and see the subtotal follow, then check out.
    page.get_by_role("spinbutton", name="Quantity of Water Bottle").fill("2")
    page.get_by_role("button", name="Update quantity of Water Bottle").click()
    expect(page.locator("#cart-subtotal")).to_have_text("$209.98")
    page.get_by_role("link", name="Proceed to checkout").click()

    # The delivery step: an address, and a shipping method (Standard is free over $50.00).
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("alert")).to_have_text("Please check the delivery details below.")
    page.get_by_label("Full name").fill("Bea Browser")
    page.get_by_label("Address line 1").fill("1 Rue de Rivoli")
    page.get_by_label("City").fill("Paris")
    page.get_by_label("Postal code").fill("75001")
    page.get_by_label("Country").select_option("FR")
    page.get_by_label("Save this address in my address book").check()
    page.get_by_label(re.compile(r"^Standard .*: free$")).check()
    screenshot(page, artifacts, "checkout")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name=re.compile(r"Pay for order #\d+"))).to_be_visible()
    expect(page.get_by_text("Your items are reserved until")).to_be_visible()
    order_url = page.url.removesuffix("pay/")

    # A declined card: the reason is shown, and the form is there to try again.
    page.get_by_label("Card with insufficient funds").check()
    page.get_by_role("button", name="Pay $209.98").click()
    expect(page.get_by_role("alert")).to_have_text("Your card has insufficient funds.")
    expect(page.get_by_text("(insufficient_funds)")).to_be_visible()
    screenshot(page, artifacts, "declined")

    page.get_by_label("Visa ending 4242 (succeeds)").check()
    page.get_by_role("button", name="Pay $209.98").click()
    expect(page).to_have_url(order_url)
    expect(page.get_by_text(re.compile(r"Thank you! Order #\d+ is paid\."))).to_be_visible()
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("#delivery-address")).to_contain_text("75001 Paris")
    expect(page.locator("#order-shipping")).to_have_text("free")
    expect(page.locator("#order-timeline li")).to_have_count(2)
    expect(page.locator("#order-timeline li").last).to_contain_text("Paid, by the payment provider")
    # Each line shows its product's thumbnail, loaded from the shop's storage.
    lines = page.locator("table.lines tbody tr")
    expect(lines).to_have_count(2)
    for line in (lines.filter(has_text="Mechanical Keyboard"), lines.filter(has_text="Water Bottle")):
        expect(line.locator("img.line-picture")).to_have_attribute(
            "src", re.compile(r"^/media/products/\d+/.+-thumbnail\.webp$")
        )
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.line-picture')].every(i => i.complete && i.naturalWidth === 480)"
    )
    screenshot(page, artifacts, "paid-order")

    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator("table.lines tbody tr")).to_have_count(1)
    expect(page.locator(".status-paid")).to_have_text("Paid")


def test_the_shop_works_from_the_keyboard_and_on_a_phone(page: Page, shop_server, artifacts):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/shop/")
    # The stylesheet is served (by whitenoise, from our own origin).
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") != (
        "rgba(0, 0, 0, 0)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type("lantern")
    page.keyboard.press("Enter")
    expect(page.get_by_text("1 product matching “lantern”")).to_be_visible()

    # A visitor fills a cart without an account; checking out asks them to log in.
    page.get_by_role("button", name="Add to cart: Camping Lantern").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Camping Lantern was added to your cart (1 item in the cart).")).to_be_visible()
    expect(page.locator("#cart-count")).to_have_text("1")
    page.goto("/shop/checkout/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, artifacts, "login-phone")
