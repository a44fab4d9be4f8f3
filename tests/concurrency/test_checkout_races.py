import pytest
from django.test import override_settings

from cart import services as cart
from inventory import services as inventory
from orders import services as orders
from tests.concurrency.conftest import race
from tests.conftest import client_for, make_product, make_user
from tests.inventory.test_services import assert_ledger_matches_levels

pytestmark = pytest.mark.django_db(transaction=True)


def test_thirty_customers_check_out_against_five_units():
    product = make_product(stock=5)
    customers = [make_user() for _ in range(30)]
    for customer in customers:
        cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    clients = [client_for(customer) for customer in customers]

    results = race(30, lambda i: clients[i].post("/order/checkout", {}, format="json"))

    statuses = [response.status_code for response in results]
    assert statuses.count(201) == 5 and statuses.count(409) == 25, statuses
    assert all(r.json()["errors"][0]["code"] == "insufficient_stock" for r in results if r.status_code == 409)
    assert sum(orders.list_orders(user_id=customer.id).count for customer in customers) == 5
    level = inventory.get_stock_level(product_id=product.id)
    assert (level.available, level.reserved) == (0, 5)
    assert_ledger_matches_levels()


def test_same_idempotency_key_from_two_threads_makes_one_order():
    product = make_product(stock=5)
    customer = make_user()
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    client = client_for(customer)

    results = race(2, lambda i: client.post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="same-key"))

    statuses = sorted(response.status_code for response in results)
    assert statuses in ([200, 201], [201, 409]), statuses  # a replay, or "still in progress"
    assert orders.list_orders(user_id=customer.id).count == 1
    assert inventory.get_stock_level(product_id=product.id).reserved == 1


def test_double_checkout_of_one_cart_without_a_key_makes_one_order():
    product = make_product(stock=5)
    customer = make_user()
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=2)

    results = race(2, lambda i: orders.checkout(user_id=customer.id))

    assert sum(isinstance(r, orders.CartEmpty) for r in results) == 1
    assert orders.list_orders(user_id=customer.id).count == 1


@override_settings(MAX_PENDING_ORDERS=3)
def test_one_customers_concurrent_checkouts_never_pass_the_pending_order_cap():
    product = make_product(stock=1000)
    customer = make_user()

    def keep_ordering(_):
        codes = []
        for _ in range(6):
            cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
            try:
                orders.checkout(user_id=customer.id)
                codes.append("placed")
            except (orders.CartEmpty, orders.TooManyPendingOrders) as refused:
                codes.append(refused.code)
        return codes

    results = race(8, keep_ordering)

    codes = [code for result in results for code in result]
    assert "too_many_pending_orders" in codes, results
    assert codes.count("placed") == 3
    assert orders.list_orders(user_id=customer.id).count == 3
    units = sum(item.quantity for order in orders.list_orders(user_id=customer.id).items for item in order.items)
    assert inventory.get_stock_level(product_id=product.id).reserved == units
    assert_ledger_matches_levels()


@override_settings(MAX_RESERVED_UNITS=10)
def test_one_customers_concurrent_checkouts_never_hold_more_than_the_reserved_units_cap():
    products = [make_product(stock=1000) for _ in range(8)]
    customer = make_user()

    def order_four_units(i):
        cart.add_to_cart(user_id=customer.id, product_id=products[i].id, quantity=4)
        try:
            return orders.checkout(user_id=customer.id)
        except (orders.CartEmpty, orders.ReservedUnitsLimit) as refused:
            return refused.code

    results = race(8, order_four_units)

    assert "reserved_units_limit" in results, results
    held = sum(inventory.get_stock_level(product_id=product.id).reserved for product in products)
    placed = [order for order in results if isinstance(order, orders.OrderInfo)]
    assert held == sum(item.quantity for order in placed for item in order.items) <= 10
    assert_ledger_matches_levels()
