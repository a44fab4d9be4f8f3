"""The shop's pages, driven with Django's test client: what a shopper sees and can do."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings

from catalog import services as catalog
from orders import services as orders
from tests.conftest import AllQueries, make_product
from tests.storefront.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def add(client: Client, product, quantity: int = 1, next_url: str = "/shop/"):
    return client.post("/shop/cart/add/", {"product_id": product.id, "quantity": quantity, "next": next_url})


def delivery(**changes) -> dict:
    """The checkout form filled in: a new address, shipped by the first method on offer."""
    return {
        "address_choice": "new",
        "name": "Sam Shopper",
        "line1": "1 Main Street",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
        "shipping_method": orders.list_shipping_options(subtotal=Decimal("0"))[0].id,
        **changes,
    }


def place_order(client: Client, **changes) -> int:
    response = client.post("/shop/checkout/", delivery(**changes))
    assert response.status_code == 302, html(response)
    return int(re.fullmatch(r"/shop/orders/(\d+)/pay/", response.url).group(1))


def pay(client: Client, order_id: int, token: str):
    return client.post(f"/shop/orders/{order_id}/pay/", {"token": token}, follow=True)


def shopper_id(client: Client) -> int:
    return int(client.session["_auth_user_id"])


# --- Product list and detail ----------------------------------------------------------------------


def test_product_list_shows_price_and_availability(visitor):
    make_product(name="Blue Mug", price="19.99", stock=12)
    make_product(name="Red Mug", price="9.50", stock=2)
    make_product(name="Green Mug", price="5.00", stock=0)

    page = html(visitor.get("/shop/"))

    assert "3 products" in page
    assert "$19.99" in page and "In stock" in page
    assert "$9.50" in page and "Only 2 left" in page
    assert "Out of stock" in page
    assert page.count('action="/shop/cart/add/"') == 2  # nothing to add when nothing is left
    assert '<link rel="stylesheet" href="/static/storefront/shop.css">' in page


def test_search_category_and_stock_filters(visitor):
    make_product(name="Trail Backpack", category="Outdoor", stock=3)
    make_product(name="Rain Jacket", category="Outdoor", stock=0)
    make_product(name="Desk Lamp", category="Home", description="A lamp for the trail office", stock=4)

    assert re.findall(r'class="card-title"><a [^>]*>([^<]+)<', html(visitor.get("/shop/?q=trail"))) == [
        "Trail Backpack",
        "Desk Lamp",
    ]
    outdoor = html(visitor.get("/shop/?category=outdoor"))
    assert "Trail Backpack" in outdoor and "Rain Jacket" in outdoor and "Desk Lamp" not in outdoor
    assert '<option value="Outdoor" selected>' in outdoor
    in_stock = html(visitor.get("/shop/?category=Outdoor&in_stock=on"))
    assert "Trail Backpack" in in_stock and "Rain Jacket" not in in_stock


def test_the_category_filter_offers_each_category_of_the_managed_list_once(visitor):
    make_product(name="Desk Lamp", category="Home")
    make_product(name="Doormat", category="home")  # filed under "Home": the list is case-insensitive
    make_product(name="Hat", category="Outdoor")
    page = html(visitor.get("/shop/"))
    category_select = page.split('<select id="category"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]*)"', category_select) == ["", "Home", "Outdoor"]
    home = html(visitor.get("/shop/?category=HOME"))
    assert "Desk Lamp" in home and "Doormat" in home and "Hat" not in home


def test_sorting_by_price(visitor):
    for name, price in [("Mid", "20.00"), ("Cheap", "5.00"), ("Dear", "90.00")]:
        make_product(name=name, price=price)
    names = re.findall(r'class="card-title"><a [^>]*>([^<]+)<', html(visitor.get("/shop/?sort=-price")))
    assert names == ["Dear", "Mid", "Cheap"]


def test_pagination_keeps_the_filters(visitor):
    for number in range(15):
        make_product(name=f"Sock {number:02d}", category="Outdoor")
    make_product(name="Lamp", category="Home")

    first = html(visitor.get("/shop/?category=Outdoor"))
    assert "15 products" in first and "Page 1 of 2" in first
    assert 'href="?category=Outdoor&amp;page=2" rel="next"' in first
    second = html(visitor.get("/shop/?category=Outdoor&page=2"))
    assert second.count('class="card-title"') == 3 and "Page 2 of 2" in second
    # Nonsense page numbers land on a real page instead of failing.
    assert "Page 1 of 2" in html(visitor.get("/shop/?category=Outdoor&page=abc"))
    assert "Page 2 of 2" in html(visitor.get("/shop/?category=Outdoor&page=999"))


def test_invalid_filters_are_reported_not_fatal(visitor):
    make_product(name="Lamp")
    response = visitor.get("/shop/?sort=password&q=" + "x" * 300)
    assert response.status_code == 200
    assert "Select a valid choice" in html(response) and "Lamp" in html(response)


def test_inactive_products_are_hidden(visitor):
    hidden = make_product(name="Withdrawn Widget")
    catalog.deactivate_product(product_id=hidden.id)

    assert "Withdrawn Widget" not in html(visitor.get("/shop/"))
    response = visitor.get(f"/shop/products/{hidden.id}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html") and "No such product." in html(response)


def test_product_detail_has_an_add_to_cart_form(visitor):
    product = make_product(name="Blue Mug", price="19.99", stock=7, category="Home", sku="MUG-1")
    page = html(visitor.get(f"/shop/products/{product.id}/"))
    assert "<h1>Blue Mug</h1>" in page and "$19.99" in page and "7 available" in page and "MUG-1" in page
    assert '<label for="quantity">Quantity</label>' in page
    assert 'max="7"' in page and "csrfmiddlewaretoken" in page
    assert visitor.get("/shop/products/999999/").status_code == 404


# --- Cart -----------------------------------------------------------------------------------------


def test_a_visitor_adds_to_the_cart_and_logs_in_at_checkout(visitor, shopper):
    product = make_product(name="Blue Mug")
    response = add(visitor, product, next_url=f"/shop/products/{product.id}/")
    assert response.status_code == 302 and response.url == f"/shop/products/{product.id}/"
    assert "Blue Mug" in html(visitor.get("/shop/cart/"))
    assert visitor.get("/shop/checkout/").url == "/shop/account/login/?next=/shop/checkout/"

    response = visitor.post(
        "/shop/account/login/", {"email": shopper.email, "password": PASSWORD, "next": "/shop/checkout/"}
    )
    assert response.status_code == 302 and response.url == "/shop/checkout/"
    assert "Blue Mug" in html(visitor.get("/shop/checkout/"))


def test_the_next_parameter_cannot_leave_the_site(visitor, shopper):
    response = visitor.post(
        "/shop/account/login/", {"email": shopper.email, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.url == "/shop/"


def test_cart_add_change_quantity_and_remove(shop):
    mug = make_product(name="Blue Mug", price="19.99", stock=5)
    lamp = make_product(name="Desk Lamp", price="39.00", stock=5)

    response = add(shop, mug, 2, next_url=f"/shop/products/{mug.id}/")
    assert response.url == f"/shop/products/{mug.id}/"
    add(shop, lamp)
    page = html(shop.get("/shop/cart/"))
    assert "Blue Mug" in page and "Desk Lamp" in page
    assert '<td class="num" id="cart-subtotal">$78.98</td>' in page
    assert f'<label for="qty-{mug.id}" class="visually-hidden">Quantity of Blue Mug</label>' in page

    response = shop.post(f"/shop/cart/{mug.id}/quantity/", {"quantity": 3}, follow=True)
    assert "Your cart was updated." in html(response)
    assert '<td class="num" id="cart-subtotal">$98.97</td>' in html(response)

    response = shop.post(f"/shop/cart/{lamp.id}/remove/", follow=True)
    assert "Desk Lamp" not in html(response) and "$59.97" in html(response)

    response = shop.post(f"/shop/cart/{mug.id}/quantity/", {"quantity": 0}, follow=True)
    assert "Your cart is empty." in html(response)


def test_asking_for_more_than_is_in_stock_leaves_the_cart_unchanged(shop):
    mug = make_product(name="Blue Mug", stock=2)
    add(shop, mug, 2)
    response = add(shop, mug, 1)
    response = shop.get(response.url)
    assert "Only 2 available." in html(response)
    assert "Not enough" not in html(response)
    response = shop.post(f"/shop/cart/{mug.id}/quantity/", {"quantity": 5000}, follow=True)
    assert "A cart line holds at most 1000 units." in html(response)
    assert 'value="2"' in html(shop.get("/shop/cart/"))


def test_bad_cart_input_never_fails(shop):
    mug = make_product(name="Blue Mug")
    assert add(shop, mug, 0).status_code == 302
    assert shop.post("/shop/cart/add/", {"product_id": "abc", "quantity": "x"}).status_code == 302
    assert shop.post("/shop/cart/add/", {"product_id": 10**30, "quantity": 1}).status_code == 302
    assert shop.post("/shop/cart/add/", {"product_id": 999999, "quantity": 1}).status_code == 404
    assert shop.post(f"/shop/cart/{mug.id}/remove/").status_code == 404  # not in the cart
    assert shop.post(f"/shop/cart/{mug.id}/quantity/", {"quantity": -1}).status_code == 302


def test_pages_that_change_something_refuse_get(shop):
    mug = make_product(name="Blue Mug")
    for url in ["/shop/cart/add/", f"/shop/cart/{mug.id}/remove/", "/shop/account/logout/", "/shop/orders/1/cancel/"]:
        assert shop.get(url).status_code == 405, url


# --- Checkout, payment, orders --------------------------------------------------------------------


def test_checkout_creates_the_order_and_shows_the_reservation_deadline(shop):
    mug = make_product(name="Blue Mug", price="19.99", stock=5)
    add(shop, mug, 2)

    review = html(shop.get("/shop/checkout/"))
    assert "reserves these items for you for 30 minutes" in review and "$39.98" in review

    order_id = place_order(shop)
    order = orders.get_order(order_id=order_id, user_id=shopper_id(shop))
    assert order.status == "pending" and str(order.total) == "44.97"  # 39.98 and Standard shipping 4.99
    page = html(shop.get(f"/shop/orders/{order_id}/pay/"))
    assert f"Order #{order_id} is placed" in page
    assert f'<time datetime="{order.expires_at.isoformat()}" id="expires-at">' in page
    assert "Your cart is empty." in html(shop.get("/shop/cart/"))


def test_checkout_of_an_empty_cart(shop):
    assert shop.get("/shop/checkout/").url == "/shop/cart/"
    response = shop.post("/shop/checkout/", follow=True)
    assert "Your cart is empty: nothing to check out." in html(response)


def test_checkout_short_of_stock_names_the_product_and_keeps_the_cart(shop):
    mug = make_product(name="Blue Mug", stock=3)
    add(shop, mug, 3)
    catalog.update_product(product_id=mug.id, stock=1)

    response = shop.post("/shop/checkout/", delivery(), follow=True)

    assert "Not enough stock for some products (Blue Mug). Please change your cart." in html(response)
    assert "Only 1 available" in html(response)
    assert orders.list_orders(user_id=shopper_id(shop)).count == 0


def test_a_declined_card_shows_the_reason_and_the_shopper_retries(shop):
    mug = make_product(name="Blue Mug", price="19.99", stock=5)
    add(shop, mug, 2)
    order_id = place_order(shop)
    form = html(shop.get(f"/shop/orders/{order_id}/pay/"))
    assert 'value="tok_chargeDeclined"' in form and 'value="tok_visa"' in form
    assert "js.stripe.com" not in form  # never in dummy mode

    declined = pay(shop, order_id, "tok_chargeDeclinedInsufficientFunds")
    assert declined.redirect_chain == [(f"/shop/orders/{order_id}/pay/", 302)]
    assert '<p class="message message-error" role="alert">Your card has insufficient funds.</p>' in html(declined)
    assert "(insufficient_funds)" in html(declined)  # the attempt is listed with its code
    assert orders.get_order(order_id=order_id).status == "pending"

    paid = pay(shop, order_id, "tok_visa")
    assert paid.redirect_chain == [(f"/shop/orders/{order_id}/", 302)]
    assert f"Thank you! Order #{order_id} is paid." in html(paid)
    assert '<dd id="order-status">Paid</dd>' in html(paid)
    assert orders.get_order(order_id=order_id).status == "paid"

    again = shop.get(f"/shop/orders/{order_id}/pay/", follow=True)
    assert "This order is paid already." in html(again)


def test_an_order_past_its_deadline_can_no_longer_be_paid(shop):
    mug = make_product(name="Blue Mug", stock=1)
    add(shop, mug)
    order_id = place_order(shop)
    order = orders.get_order(order_id=order_id)
    with time_machine.travel(order.expires_at + timedelta(seconds=1)):
        response = shop.get(f"/shop/orders/{order_id}/pay/", follow=True)
        assert response.redirect_chain == [(f"/shop/orders/{order_id}/", 302)]
        assert "This order can no longer be paid." in html(response)
        assert '<dd id="order-status">Cancelled</dd>' in html(response)
        response = pay(shop, order_id, "tok_visa")
        assert "This order can no longer be paid." in html(response)
    assert orders.get_order(order_id=order_id).status == "cancelled"


def test_the_payment_form_needs_a_test_card(shop):
    add(shop, make_product())
    order_id = place_order(shop)
    response = shop.post(f"/shop/orders/{order_id}/pay/", {"token": "tok_bogus"})
    assert response.status_code == 400 and "Select a valid choice" in html(response)
    assert orders.get_order(order_id=order_id).status == "pending"


def test_with_stripe_and_a_publishable_key_the_card_form_is_stripe_elements(shop, settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_storefront"
    add(shop, make_product())
    order_id = place_order(shop)

    page = html(shop.get(f"/shop/orders/{order_id}/pay/"))

    assert '<script src="https://js.stripe.com/v3/"></script>' in page
    assert 'data-stripe-key="pk_test_storefront"' in page and 'id="card-element"' in page
    assert "tok_visa" not in page
    response = shop.post(f"/shop/orders/{order_id}/pay/", {"token": "tok_visa"})  # only a PaymentMethod id
    assert response.status_code == 400


def test_order_history_and_detail(shop):
    mug = make_product(name="Blue Mug", price="10.00")
    add(shop, mug)
    first = place_order(shop)
    pay(shop, first, "tok_visa")
    add(shop, mug, 2)
    second = place_order(shop)

    page = html(shop.get("/shop/orders/"))
    assert page.index(f"Order #{second}") < page.index(f"Order #{first}")  # newest first
    assert '<span class="status status-paid">Paid</span>' in page
    assert '<span class="status status-pending">Pending</span>' in page
    assert f'href="/shop/orders/{second}/pay/"' in page and f'href="/shop/orders/{first}/pay/"' not in page

    detail = html(shop.get(f"/shop/orders/{second}/"))
    assert "Reserved until" in detail and "$20.00" in detail and "Cancel order" in detail


@override_settings(MAX_PENDING_ORDERS=12)  # many unpaid orders of one customer, on purpose
def test_order_history_pages(shop):
    mug = make_product(stock=100)
    for _ in range(12):
        add(shop, mug)
        place_order(shop)
    assert "Page 1 of 2" in html(shop.get("/shop/orders/"))
    assert html(shop.get("/shop/orders/?page=2")).count("Order #") == 2


def test_the_shopper_cancels_a_pending_order(shop):
    mug = make_product(name="Blue Mug", stock=1)
    add(shop, mug)
    order_id = place_order(shop)
    response = shop.post(f"/shop/orders/{order_id}/cancel/", follow=True)
    assert f"Order #{order_id} is cancelled" in html(response)
    assert '<dd id="order-status">Cancelled</dd>' in html(response)
    assert catalog.find_products().items[0].stock == 1  # back on sale
    response = shop.post(f"/shop/orders/{order_id}/cancel/", follow=True)
    assert "A cancelled order cannot be cancelled." in html(response)
    response = shop.get(f"/shop/orders/{order_id}/pay/", follow=True)
    assert "This order can no longer be paid." in html(response)


def test_another_users_order_is_not_found(shop, other_shop):
    add(shop, make_product())
    order_id = place_order(shop)

    for response in [
        other_shop.get(f"/shop/orders/{order_id}/"),
        other_shop.get(f"/shop/orders/{order_id}/pay/"),
        other_shop.post(f"/shop/orders/{order_id}/pay/", {"token": "tok_visa"}),
        other_shop.post(f"/shop/orders/{order_id}/cancel/"),
    ]:
        assert response.status_code == 404
        assert "No such order." in html(response)
    assert orders.get_order(order_id=order_id).status == "pending"
    assert f"Order #{order_id}" not in html(other_shop.get("/shop/orders/"))


def test_order_pages_need_a_login(visitor):
    assert visitor.get("/shop/orders/").url == "/shop/account/login/?next=/shop/orders/"
    assert visitor.get("/shop/orders/1/").url == "/shop/account/login/?next=/shop/orders/1/"
    assert visitor.post("/shop/checkout/").url == "/shop/account/login/?next=/shop/"


# --- Accounts -------------------------------------------------------------------------------------


def test_register_shows_the_same_page_for_a_new_and_a_taken_email(visitor, shopper):
    page = html(visitor.get("/shop/account/register/"))
    for field in ["name", "email", "password"]:
        assert f'<label for="id_{field}">' in page
    new = visitor.post(
        "/shop/account/register/", {"name": "New Shopper", "email": "new@example.com", "password": PASSWORD}
    )
    taken = visitor.post(
        "/shop/account/register/", {"name": "Again", "email": shopper.email.upper(), "password": PASSWORD}
    )
    assert new.status_code == taken.status_code == 200
    assert "Check your email" in html(new) and "Check your email" in html(taken)
    assert html(new).replace("new@example.com", "EMAIL") == html(taken).replace(shopper.email.upper(), "EMAIL")
    assert "Log out" not in html(new)  # signed in only once they log in
    assert [m.to for m in mail.outbox] == [["new@example.com"], [shopper.email]]


def test_register_shows_the_services_errors_on_their_fields(visitor):
    weak = visitor.post("/shop/account/register/", {"name": "Weak", "email": "weak@example.com", "password": "12345"})
    assert weak.status_code == 400 and "This password is too short." in html(weak)
    assert 'aria-invalid="true"' in html(weak)


def test_login_with_a_wrong_password_and_logout(visitor, shopper):
    wrong = visitor.post("/shop/account/login/", {"email": shopper.email, "password": "nope"})
    assert wrong.status_code == 400
    assert "No active account matches this email and password." in html(wrong)

    assert (
        visitor.post("/shop/account/login/", {"email": shopper.email.upper(), "password": PASSWORD}).status_code == 302
    )
    assert visitor.get("/shop/cart/").status_code == 200
    response = visitor.post("/shop/account/logout/", follow=True)
    assert "You are logged out." in html(response)
    assert visitor.get("/shop/orders/").status_code == 302


def test_login_is_throttled_like_the_api(visitor, shopper):
    statuses = [
        visitor.post("/shop/account/login/", {"email": shopper.email, "password": "wrong"}).status_code
        for _ in range(11)
    ]
    assert statuses == [400] * 10 + [429]
    assert "Too many attempts" in html(visitor.post("/shop/account/login/", {"email": "x", "password": "y"}))


# --- CSRF -----------------------------------------------------------------------------------------


def test_forms_are_protected_by_csrf(shopper):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/shop/account/login/", {"email": shopper.email, "password": PASSWORD}).status_code == 403

    page = html(browser.get("/shop/account/login/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(
        "/shop/account/login/", {"email": shopper.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302

    mug = make_product()
    assert browser.post("/shop/cart/add/", {"product_id": mug.id, "quantity": 1}).status_code == 403
    assert browser.post("/shop/checkout/").status_code == 403
    assert browser.post("/shop/account/logout/").status_code == 403


def test_every_form_carries_a_csrf_token(shop):
    mug = make_product()
    add(shop, mug)
    for url in ["/shop/", f"/shop/products/{mug.id}/", "/shop/cart/", "/shop/checkout/"]:
        page = html(shop.get(url))
        assert page.count('method="post"') == page.count('name="csrfmiddlewaretoken"'), url


# --- Query counts: a fixed number whatever the length of the list --------------------------------


def count_queries(client: Client, url: str) -> int:
    with AllQueries() as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_product_list_queries(visitor, shop, django_assert_max_num_queries):
    for number in range(3):
        make_product(name=f"Product {number}")
    few = count_queries(visitor, "/shop/")
    for number in range(20):
        make_product(name=f"More {number}")
    assert count_queries(visitor, "/shop/") == few

    # categories, count, page, stock
    with django_assert_max_num_queries(4):
        visitor.get("/shop/?q=More&category=&sort=price")
    with django_assert_max_num_queries(7):  # and the session, its user and the header's cart count
        shop.get("/shop/?q=More")


def test_cart_queries(shop, django_assert_max_num_queries):
    products = [make_product(stock=10) for _ in range(8)]
    add(shop, products[0])
    one_line = count_queries(shop, "/shop/cart/")
    for product in products[1:]:
        add(shop, product)
    assert count_queries(shop, "/shop/cart/") == one_line
    with django_assert_max_num_queries(7):  # session, user, header count, cart, lines, prices, stock
        shop.get("/shop/cart/")


@override_settings(MAX_PENDING_ORDERS=7)  # many unpaid orders of one customer, on purpose
def test_order_history_queries(shop, django_assert_max_num_queries):
    products = [make_product(stock=10) for _ in range(4)]
    add(shop, products[0])
    place_order(shop)
    one_order = count_queries(shop, "/shop/orders/")
    for _ in range(6):
        for product in products:
            add(shop, product)
        place_order(shop)
    assert count_queries(shop, "/shop/orders/") == one_order
    with django_assert_max_num_queries(8):  # session, user, header count, expiry, count, page, lines, timelines
        shop.get("/shop/orders/")
