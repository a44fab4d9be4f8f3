"""The money limit: no cart subtotal, order line or order total above what a money column holds.

9999999999.99 is the largest amount of a 12-digit column with 2 decimal places, and it is exactly
999 x 10010010.01. These tests run on SQLite and on PostgreSQL alike.
"""

from decimal import Decimal

import pytest
from django.db import connection

from catalog import services as catalog
from ecommerce.money import MAX_AMOUNT
from inventory import services as inventory
from orders.models import Order, OrderLine
from tests.conftest import make_product

pytestmark = pytest.mark.django_db

PRICE_AT_LIMIT = "10010010.01"  # x 999 = 9999999999.99


def add(client, product_id, quantity):
    return client.post("/cart", {"productId": product_id, "quantity": quantity}, format="json")


def codes(response):
    return [error["code"] for error in response.json()["errors"]]


def test_limit_is_what_the_columns_hold():
    assert Decimal(PRICE_AT_LIMIT) * 999 == MAX_AMOUNT == Decimal("9999999999.99")
    assert Order._meta.get_field("total").max_digits == 12
    assert OrderLine._meta.get_field("line_total").max_digits == 12


def test_a_cart_and_an_order_at_exactly_the_limit_are_accepted_stored_and_paid(customer_client, staff_client):
    product = make_product(price=PRICE_AT_LIMIT, stock=1000)
    response = add(customer_client, product.id, 999)
    assert response.status_code == 200, response.json()
    assert (response.json()["items"][0]["lineTotal"], response.json()["subtotal"]) == ("9999999999.99",) * 2

    order = customer_client.post("/order/checkout", {}, format="json")
    assert order.status_code == 201, order.json()
    assert (order.json()["items"][0]["lineTotal"], order.json()["total"]) == ("9999999999.99",) * 2
    stored = Order.objects.get(pk=order.json()["id"])
    assert (stored.subtotal, stored.total) == (MAX_AMOUNT, MAX_AMOUNT)

    paid = customer_client.post("/payment", {"orderId": stored.id, "token": "tok_visa"}, format="json")
    assert paid.status_code == 201, paid.json()
    assert paid.json()["payment"]["amount"] == "9999999999.99"
    assert staff_client.get("/order").json()["results"][0]["total"] == "9999999999.99"


def test_one_cent_over_the_limit_is_409_and_leaves_the_cart_unchanged(customer_client):
    product = make_product(price=PRICE_AT_LIMIT, stock=1000)
    cent = make_product(price="0.01", stock=5)
    assert add(customer_client, product.id, 999).status_code == 200
    before = customer_client.get("/cart").json()

    over = add(customer_client, cent.id, 1)

    assert over.status_code == 409 and codes(over) == ["amount_too_large"]
    assert customer_client.get("/cart").json() == before


def test_growing_a_line_past_the_limit_is_409(customer_client):
    product = make_product(price=PRICE_AT_LIMIT, stock=1000)
    assert add(customer_client, product.id, 998).status_code == 200
    assert add(customer_client, product.id, 1).status_code == 200  # 999: at the limit
    response = customer_client.patch(f"/cart/{product.id}", {"quantity": 1000}, format="json")
    assert response.status_code == 409 and codes(response) == ["amount_too_large"]
    assert customer_client.get("/cart").json()["items"][0]["quantity"] == 999


def test_the_most_expensive_product_in_bulk_is_409_not_500(customer_client):
    product = make_product(price="999999999.99", stock=1000)
    response = add(customer_client, product.id, 1000)
    assert response.status_code == 409 and codes(response) == ["amount_too_large"]
    assert customer_client.get("/cart").json()["items"] == []


def test_a_cart_pushed_over_the_limit_by_a_price_rise_reads_shrinks_and_refuses_checkout(customer_client, staff_client):
    product = make_product(price="1000000.00", stock=1000)
    assert add(customer_client, product.id, 1000).status_code == 200
    catalog.update_product(product_id=product.id, price=Decimal("999999999.99"))

    cart = customer_client.get("/cart")
    assert cart.status_code == 200
    assert (cart.json()["items"][0]["lineTotal"], cart.json()["subtotal"]) == ("999999999990.00",) * 2

    refused = customer_client.post("/order/checkout", {}, format="json")
    assert refused.status_code == 409 and codes(refused) == ["amount_too_large"]
    assert customer_client.get("/cart").json()["items"][0]["quantity"] == 1000  # the cart is kept
    assert inventory.get_stock_level(product_id=product.id).reserved == 0
    assert not Order.objects.exists() and staff_client.get("/order").status_code == 200

    growing = customer_client.patch(f"/cart/{product.id}", {"quantity": 1000}, format="json")
    assert growing.status_code == 200  # not growing: the same quantity is no change
    shrunk = customer_client.patch(f"/cart/{product.id}", {"quantity": 10}, format="json")
    assert shrunk.status_code == 200 and shrunk.json()["subtotal"] == "9999999999.90"
    assert customer_client.post("/order/checkout", {}, format="json").status_code == 201


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL refuses such a row: numeric(12,2) overflows")
def test_an_order_stored_above_the_limit_before_the_rule_still_reads(customer, customer_client, staff_client):
    """SQLite does not enforce max_digits: older versions stored such orders, which must stay readable."""
    product = make_product(price="999999999.99", stock=1000)
    assert add(customer_client, product.id, 1).status_code == 200
    order_id = customer_client.post("/order/checkout", {}, format="json").json()["id"]
    too_much = Decimal("999999999990.00")
    Order.objects.filter(pk=order_id).update(subtotal=too_much, total=too_much)
    OrderLine.objects.filter(order_id=order_id).update(quantity=1000, line_total=too_much)

    for response in (staff_client.get("/order"), customer_client.get(f"/order/{order_id}")):
        assert response.status_code == 200
    order = staff_client.get(f"/order/{order_id}").json()
    assert (order["total"], order["items"][0]["lineTotal"]) == ("999999999990.00", "999999999990.00")
