"""Checkout is four commits in three apps: the cart gives up its lines, orders writes the order (not placed
yet), inventory holds the stock, orders places the order (and the cart, on ``order.placed``, forgets the
lines). Here the process dies after each commit. A retry with the same Idempotency-Key resumes the same
checkout (one order, stock held once); without one, the stopped checkout is undone (no order, no stock
held, the lines back in the cart) by ``check_consistency --repair`` or the expiry job. Real commits.
"""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from cart import services as cart
from ecommerce.models import IdempotencyRecord
from orders import services as orders
from tests.conftest import WorkerDied, client_for, make_user, on_every_database, worker_dies_at
from tests.inventory.test_services import assert_ledger_matches_levels
from tests.payments.conftest import check_consistency as check
from tests.payments.conftest import ledger, stock

pytestmark = pytest.mark.django_db(transaction=True)

# The first statement of each step: the process dies there, after the step before it committed.
DIES_AFTER = {
    "the cart gave its lines": 'INSERT INTO "orders_order"',
    "the order was written": 'UPDATE "inventory_stockitem"',
    "the stock was held": 'UPDATE "orders_order" SET "placed"',
}


def later():
    """Past the time after which a checkout that has not finished counts as stopped."""
    return time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False)


@pytest.mark.parametrize("step", DIES_AFTER)
def test_a_stopped_checkout_is_undone_by_the_repair(step, customer, product):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=2)
    with on_every_database(worker_dies_at(DIES_AFTER[step])), pytest.raises(WorkerDied):
        orders.checkout(user_id=customer.id)

    assert cart.count_units(user_id=customer.id) == 0  # lent to the checkout
    assert orders.list_orders(user_id=customer.id).count == 0  # an order not placed is shown to no one
    assert check() == (0, "0 problem(s)\n")  # it may still be running
    with later():
        status, report = check()
        assert status == 1 and "checkout_unfinished: checkout" in report
        assert check("--repair")[0] == 0

    assert cart.count_units(user_id=customer.id) == 2
    assert orders.list_orders(user_id=customer.id).count == 0
    assert stock(product) == (5, 0)
    assert_ledger_matches_levels()
    assert orders.checkout(user_id=customer.id).items[0].quantity == 2  # the customer can check out again


@pytest.mark.parametrize("step", DIES_AFTER)
def test_a_retry_with_the_same_key_resumes_the_checkout(step, customer, product):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=2)
    body = {}
    with on_every_database(worker_dies_at(DIES_AFTER[step])), pytest.raises(WorkerDied):
        client_for(customer).post("/order/checkout", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    lease = IdempotencyRecord.objects.get(key="k").locked_until

    with time_machine.travel(lease + timedelta(seconds=1), tick=False):
        retried = client_for(customer).post("/order/checkout", body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert retried.status_code == 201
    assert [item["quantity"] for item in retried.json()["items"]] == [2]
    assert [o.id for o in orders.list_orders(user_id=customer.id).items] == [retried.json()["id"]]
    assert stock(product) == (5, 2)
    assert ledger(retried.json()["id"]) == [("reservation", 0, 2)]
    assert cart.count_units(user_id=customer.id) == 0
    with later():
        assert check() == (0, "0 problem(s)\n")


def test_an_order_placed_before_the_cart_heard_of_it_keeps_its_lines_out_of_the_cart(settings, customer, product):
    settings.OUTBOX_DELIVER_ON_COMMIT = False  # the process dies right after placing the order
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=2)
    order = orders.checkout(user_id=customer.id)

    with later():
        status, report = check()
        assert status == 1 and "checkout_unfinished: checkout" in report
        assert check("--repair") == (0, "0 problem(s)\n")  # the relay delivers order.placed

    assert orders.get_order(order_id=order.id).status == "pending"
    assert cart.count_units(user_id=customer.id) == 0
    assert stock(product) == (5, 2)


def test_the_expiry_job_undoes_stopped_checkouts(customer, product):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=2)
    with on_every_database(worker_dies_at(DIES_AFTER["the stock was held"])), pytest.raises(WorkerDied):
        orders.checkout(user_id=customer.id)
    assert stock(product) == (5, 2)

    out = StringIO()
    with later():
        call_command("release_expired_reservations", stdout=out)
    assert "Stopped checkouts undone: 1" in out.getvalue()
    assert (stock(product), cart.count_units(user_id=customer.id)) == ((5, 0), 2)


def test_a_checkout_short_of_stock_leaves_the_cart_and_the_stock_as_they_were(customer, product):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=5)
    other = client_for(customer)  # a second customer takes 4 of the 5 units meanwhile
    rival = make_user()
    cart.add_to_cart(user_id=rival.id, product_id=product.id, quantity=4)
    assert client_for(rival).post("/order/checkout", {}, format="json").status_code == 201

    refused = other.post("/order/checkout", {}, format="json")

    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "insufficient_stock"
    assert cart.count_units(user_id=customer.id) == 5
    assert orders.list_orders(user_id=customer.id).count == 0
    assert stock(product) == (5, 4)
    with later():
        assert check() == (0, "0 problem(s)\n")
    assert settings.RESERVATION_TTL_MINUTES > 6  # "later" is still within the rival's reservation
