"""A visitor's cart (kept in the session), merged into the account's cart on login or registration."""

import pytest
from django.test import Client

from cart import services as cart
from cart.services import MAX_LINE_QUANTITY
from catalog import services as catalog
from tests.conftest import make_product
from tests.storefront.conftest import PASSWORD
from tests.storefront.test_pages import add, html, shopper_id

pytestmark = pytest.mark.django_db


def header_count(client: Client, url: str = "/shop/") -> str:
    page = html(client.get(url))
    start = page.index('id="cart-count"')
    return page[page.index(">", start) + 1 : page.index("</span>", start)]


def log_in(client: Client, user, next_url: str = "/shop/"):
    return client.post(
        "/shop/account/login/", {"email": user.email, "password": PASSWORD, "next": next_url}, follow=True
    )


def test_a_visitor_fills_a_cart_without_an_account(visitor):
    mug = make_product(name="Blue Mug", price="10.00", stock=5)
    tea = make_product(name="Green Tea", price="3.00", stock=5)
    response = add(visitor, mug, 2)
    assert response.status_code == 302 and response.url == "/shop/"
    add(visitor, tea, 1)
    page = html(visitor.get("/shop/cart/"))
    assert "Blue Mug" in page and "Green Tea" in page and '<td class="num" id="cart-subtotal">$23.00</td>' in page
    assert "Subtotal (3 items)" in page
    assert header_count(visitor) == "3"
    assert header_count(visitor, f"/shop/products/{mug.id}/") == "3"

    visitor.post(f"/shop/cart/{mug.id}/quantity/", {"quantity": 4})
    visitor.post(f"/shop/cart/{tea.id}/remove/")
    assert header_count(visitor, "/shop/cart/") == "4"
    assert visitor.get("/shop/checkout/").url.startswith("/shop/account/login/")


def test_a_visitors_cart_obeys_the_same_rules(visitor):
    mug = make_product(name="Blue Mug", stock=2)
    response = add(visitor, mug, 3)
    assert "Only 2 available." in html(visitor.get(response.url))
    assert header_count(visitor) == "0"
    hidden = make_product(stock=5)
    catalog.deactivate_product(product_id=hidden.id)
    assert add(visitor, hidden, 1).status_code == 404
    assert visitor.post(f"/shop/cart/{mug.id}/remove/").status_code == 404  # not in the cart
    assert visitor.post("/shop/cart/add/", {"product_id": "abc", "quantity": "1"}).status_code == 302
    plenty = make_product(stock=5000)
    add(visitor, plenty, MAX_LINE_QUANTITY)
    add(visitor, plenty, 1)
    assert header_count(visitor) == str(MAX_LINE_QUANTITY)


def test_garbage_in_the_session_is_an_empty_cart(visitor):
    session = visitor.session
    session["guest_cart"] = {"x": "y", "1": None}
    session.save()
    assert visitor.get("/shop/cart/").status_code == 200 and header_count(visitor) == "0"


def test_logging_in_merges_the_visitors_cart_capped_by_stock(visitor, shopper):
    mug = make_product(name="Blue Mug", stock=3)
    tea = make_product(name="Green Tea", stock=10)
    cart.add_to_cart(user_id=shopper.id, product_id=mug.id, quantity=2)
    add(visitor, mug, 3)
    add(visitor, tea, 1)
    response = log_in(visitor, shopper, "/shop/cart/")
    page = html(response)
    assert "The items you chose are in your cart (4 items in the cart)." in page
    assert "Some quantities were lowered to what is available: Blue Mug." in page
    assert {i.product_id: i.quantity for i in cart.get_cart(user_id=shopper.id).items} == {mug.id: 3, tea.id: 1}
    assert header_count(visitor) == "4"
    log_in(visitor, shopper)  # the visitor's cart is gone from the session: nothing is added twice
    assert cart.get_cart(user_id=shopper.id).total_quantity == 4


def test_registering_then_logging_in_keeps_the_visitors_cart_and_withdrawn_products_are_left_out(visitor):
    mug = make_product(name="Blue Mug", stock=3)
    gone = make_product(name="Old Lamp", stock=3)
    add(visitor, mug, 2)
    add(visitor, gone, 1)
    catalog.deactivate_product(product_id=gone.id)
    account = {"name": "Nina New", "email": "nina@example.com", "password": "Str0ng-Passw0rd!x"}
    assert "Check your email" in html(visitor.post("/shop/account/register/", account))
    response = visitor.post(
        "/shop/account/login/", {"email": account["email"], "password": account["password"]}, follow=True
    )
    page = html(response)
    assert "Welcome back, Nina New." in page
    assert "Some products you chose are no longer available and were left out." in page
    assert cart.get_cart(user_id=shopper_id(visitor)).total_quantity == 2


def test_the_header_counts_units_for_a_customer(shop):
    add(shop, make_product(stock=10), 3)
    add(shop, make_product(stock=10), 2)
    assert header_count(shop) == "5" and header_count(shop, "/shop/orders/") == "5"
    assert "Subtotal (5 items)" in html(shop.get("/shop/cart/"))


@pytest.mark.parametrize(
    ("product_id", "quantity"),
    [
        ("PID", "-1"),
        ("PID", "0"),
        ("PID", "abc"),
        ("PID", "1e3"),
        ("PID", "9" * 30),
        ("PID", ""),
        ("PID", "1\x00"),
        ("0", "1"),
        ("-5", "1"),
        ("9" * 30, "1"),
        ("", "1"),
        ("PID\u202e", "1"),
    ],
)
def test_hostile_input_to_a_visitors_cart_is_refused_and_changes_nothing(visitor, product_id, quantity):
    product = make_product(stock=5)
    body = {"product_id": product_id.replace("PID", str(product.id)), "quantity": quantity, "next": "/shop/"}
    response = visitor.post("/shop/cart/add/", body)
    assert response.status_code == 302 and response.url == "/shop/"
    assert header_count(visitor) == "0"
    assert visitor.post(f"/shop/cart/{product.id}/quantity/", {"quantity": quantity}).status_code in (302, 404)
    assert header_count(visitor) == "0"


def test_a_visitors_cart_holds_a_limited_number_of_products(visitor, monkeypatch):
    monkeypatch.setattr("storefront.guest_cart.MAX_LINES", 2)
    first, second, third = (make_product(name=f"Product {n}") for n in range(3))
    for product in (first, second):
        add(visitor, product)
    response = add(visitor, third)
    assert "Your cart is full" in html(visitor.get(response.url))
    assert header_count(visitor) == "2"
    add(visitor, first)  # more of a product already in the cart is fine
    assert header_count(visitor) == "3"
