"""Caps on one customer's unpaid orders (finding 8 of issue 17): nobody may hold the shop's stock with orders
they never pay. The race of one customer's concurrent checkouts is in tests/concurrency."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from cart import services as cart
from inventory import services as inventory
from orders import services as orders
from tests.conftest import client_for, make_product

pytestmark = pytest.mark.django_db


def checkout(client, **headers):
    return client.post("/order/checkout", {}, format="json", **headers)


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["code"]


@pytest.fixture
def plenty(db):
    return make_product(stock=5000)


def test_a_sixth_unpaid_order_is_refused_and_the_cart_kept_until_one_is_paid_or_cancelled(
    customer, customer_client, plenty
):
    placed = []
    for _ in range(5):
        cart.add_to_cart(user_id=customer.id, product_id=plenty.id, quantity=1)
        response = checkout(customer_client)
        assert response.status_code == 201
        placed.append(response.json()["id"])
    cart.add_to_cart(user_id=customer.id, product_id=plenty.id, quantity=1)

    assert error(checkout(customer_client)) == (409, "too_many_pending_orders")
    assert cart.get_cart(user_id=customer.id).total_quantity == 1  # nothing happened
    assert inventory.get_stock_level(product_id=plenty.id).reserved == 5

    assert customer_client.post(f"/order/{placed[0]}/cancel").status_code == 200
    assert checkout(customer_client).status_code == 201
    cart.add_to_cart(user_id=customer.id, product_id=plenty.id, quantity=1)
    orders.mark_order_paid(order_id=placed[1])  # a paid order holds no reservation
    assert checkout(customer_client).status_code == 201


def test_expired_orders_do_not_count(customer, customer_client, plenty):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            cart.add_to_cart(user_id=customer.id, product_id=plenty.id, quantity=1)
            assert checkout(customer_client).status_code == 201
        clock.shift(timedelta(minutes=31))
        cart.add_to_cart(user_id=customer.id, product_id=plenty.id, quantity=1)
        assert checkout(client_for(customer)).status_code == 201  # a new token: the first one expired too


@override_settings(MAX_PENDING_ORDERS=2)
def test_the_order_cap_is_a_setting_and_counts_per_customer(customer, customer_client, other_customer, other_client):
    for _ in range(2):
        cart.add_to_cart(user_id=customer.id, product_id=make_product().id, quantity=1)
        assert checkout(customer_client).status_code == 201
    cart.add_to_cart(user_id=customer.id, product_id=make_product().id, quantity=1)
    assert error(checkout(customer_client)) == (409, "too_many_pending_orders")
    cart.add_to_cart(user_id=other_customer.id, product_id=make_product().id, quantity=1)
    assert checkout(other_client).status_code == 201


@override_settings(MAX_RESERVED_UNITS=10)
def test_unpaid_orders_hold_at_most_max_reserved_units_in_all(customer, customer_client, plenty):
    cart.add_to_cart(user_id=customer.id, product_id=plenty.id, quantity=6)
    assert checkout(customer_client).status_code == 201
    cart.add_to_cart(user_id=customer.id, product_id=plenty.id, quantity=5)
    assert error(checkout(customer_client)) == (409, "reserved_units_limit")
    assert inventory.get_stock_level(product_id=plenty.id).reserved == 6
    cart.set_cart_quantity(user_id=customer.id, product_id=plenty.id, quantity=4)
    assert checkout(customer_client).status_code == 201


def test_one_order_of_more_than_max_reserved_units_is_refused(customer, customer_client, plenty):
    for product in (plenty, make_product(stock=5000)):
        cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=600)  # 1000 a line at most
    assert error(checkout(customer_client)) == (409, "reserved_units_limit")


def test_a_replay_of_a_checkout_is_not_a_new_order(customer, customer_client, plenty):
    for number in range(5):
        cart.add_to_cart(user_id=customer.id, product_id=plenty.id, quantity=1)
        first = checkout(customer_client, HTTP_IDEMPOTENCY_KEY=f"order-{number}")
    replay = checkout(customer_client, HTTP_IDEMPOTENCY_KEY="order-4")
    assert (replay.status_code, replay.json()["id"]) == (200, first.json()["id"])


def test_the_schema_documents_the_caps(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    conflict = schema["paths"]["/order/checkout"]["post"]["responses"]["409"]["description"]
    assert "`too_many_pending_orders`" in conflict and "`reserved_units_limit`" in conflict
