import pytest

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
