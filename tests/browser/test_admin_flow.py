"""Staff in a real browser at 1280 px: stock from the product list, ship and refund from the order page,
and an order manager refused a price change in the admin and the API. No page scrolls sideways."""

import uuid

import pytest

from tests.browser.conftest import screenshot
from tests.e2e.test_purchase_flow import Client, customer

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the chromium fixture skips these tests (or fails them, with REQUIRE_BROWSER=1)
    Page = expect = None

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PASSWORD = "Staff-Passw0rd-browser"


# Elements wider than their box: the page itself, or a scrolling part of it such as the admin's results table.
OVERFLOWING = """[...document.querySelectorAll('*')]
    .filter(e => e === document.documentElement || ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => `${e.tagName} ${e.id} ${e.className}: ${e.scrollWidth} > ${e.clientWidth}`)"""


def assert_no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("window.innerWidth") == 1280
    overflowing = page.evaluate(OVERFLOWING)
    assert overflowing == [], f"{page.url} scrolls sideways at 1280 px: {overflowing}"


def make_staff(server, *, group: str | None = None) -> str:
    email = f"staff-{uuid.uuid4().hex[:8]}@example.com"
    if group is None:
        env = {"DJANGO_SUPERUSER_EMAIL": email, "DJANGO_SUPERUSER_PASSWORD": PASSWORD, "DJANGO_SUPERUSER_NAME": "Sam"}
        server.manage("createsuperuser", "--noinput", env=env)
    else:
        server.manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; from django.contrib.auth.models import Group; "
            f"user = get_user_model().objects.create_user(email={email!r}, password={PASSWORD!r}, name='Olga', "
            f"is_staff=True); user.groups.add(Group.objects.get(name={group!r}))",
        )
    return email


def admin_login(page: Page, email: str) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Today in the shop")).to_be_visible()


def paid_order(server, product_id: int) -> int:
    buyer = customer(server, "Petra")
    buyer.ok("POST", "/cart", {"productId": product_id, "quantity": 1})
    order = buyer.ok("POST", "/order/checkout", {}, 201)
    buyer.ok("POST", "/payment", {"orderId": order["id"], "token": "tok_visa"}, 201)
    return order["id"]


def api_product(server, name: str) -> dict:
    return next(p for p in Client(server.url).ok("GET", "/products", None)["results"] if p["name"] == name)


def test_staff_adjust_stock_ship_and_refund_in_the_admin(page: Page, shop_server, artifacts):
    admin_login(page, make_staff(shop_server))
    assert_no_horizontal_scroll(page)

    # Stock from the list: the row's field, a reason, Set.
    page.goto("/admin/catalog/product/")
    expect(page.get_by_role("link", name="Mechanical Keyboard")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, artifacts, "admin-product-list")
    keyboard = api_product(shop_server, "Mechanical Keyboard")
    page.get_by_label("Stock of Mechanical Keyboard").fill(str(keyboard["stock"] + 5))
    page.get_by_label("Reason for the stock change of Mechanical Keyboard").fill("Delivery from the supplier")
    page.locator(f'button[name="product"][value="{keyboard["id"]}"]').click()
    expect(page.get_by_text(f"Mechanical Keyboard: {keyboard['stock'] + 5} available now.")).to_be_visible()
    assert api_product(shop_server, "Mechanical Keyboard")["stock"] == keyboard["stock"] + 5

    # The product's page shows that movement.
    page.get_by_role("link", name="Mechanical Keyboard").click()
    expect(page.locator("#stock-movements")).to_contain_text("Delivery from the supplier")
    assert_no_horizontal_scroll(page)

    # Ship one order from its page, after confirming.
    to_ship, to_refund = paid_order(shop_server, keyboard["id"]), paid_order(shop_server, keyboard["id"])
    page.goto(f"/admin/orders/order/{to_ship}/change/")
    expect(page.locator("#order-payments")).to_contain_text("succeeded")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    screenshot(page, artifacts, "admin-order")
    page.get_by_role("link", name="Mark shipped").click()
    page.get_by_role("button", name="Yes, mark shipped").click()
    expect(page.get_by_text(f"Order {to_ship} marked shipped.")).to_be_visible()
    expect(page.locator(".status-badge")).to_have_text("Shipped")
    expect(page.get_by_role("link", name="Mark delivered")).to_be_visible()

    # Refund another: the stock comes back.
    before = api_product(shop_server, "Mechanical Keyboard")["stock"]
    page.goto(f"/admin/orders/order/{to_refund}/change/")
    page.get_by_role("link", name="Refund").click()
    page.get_by_role("button", name="Yes, refund").click()
    expect(page.get_by_text(f"Order {to_refund} refunded.")).to_be_visible()
    expect(page.locator("#order-payments")).to_contain_text("refunded")
    assert api_product(shop_server, "Mechanical Keyboard")["stock"] == before + 1

    page.goto("/admin/orders/order/")
    assert_no_horizontal_scroll(page)


def test_an_order_manager_cannot_change_a_price(page: Page, shop_server):
    email = make_staff(shop_server, group="Order managers")
    admin_login(page, email)
    mug = Client(shop_server.url).ok("GET", "/products")["results"][0]

    response = page.goto(f"/admin/catalog/product/{mug['id']}/change/")
    assert response.status == 403
    page.goto("/admin/")
    expect(page.locator('a[href="/admin/catalog/product/"]')).to_have_count(0)
    expect(page.locator("#orders-order").get_by_role("link", name="Orders")).to_be_visible()

    access = Client(shop_server.url).ok("POST", "/auth/login", {"email": email, "password": PASSWORD})["access"]
    refused = Client(shop_server.url, access).call("PATCH", f"/products/{mug['id']}", {"price": "0.50"})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "missing_permission"
    assert Client(shop_server.url).ok("GET", f"/products/{mug['id']}")["price"] == mug["price"]
