"""The race tests' rules (tests/concurrency, tests/payments/test_races.py) through the gateway of the split
shop: real clients racing over HTTP, checkout in the orders process holding stock in the catalog process,
payments charging in a third.
"""

import pytest

from tests.concurrency.conftest import race
from tests.e2e.test_purchase_flow import error_code, ledger_totals
from tests.split.conftest import checked_out, customers, paid_once, product_with_stock

pytestmark = pytest.mark.e2e


def test_thirty_customers_racing_for_five_units_buy_exactly_five(e2e_server, gateway_staff):
    product_id = product_with_stock(gateway_staff, 5)
    racers = customers(e2e_server, 30)
    race(30, lambda i: racers[i].ok("POST", "/cart", {"productId": product_id, "quantity": 1}))

    checkouts = race(30, lambda i: racers[i].call("POST", "/order/checkout", {}))

    statuses = [response.status_code for response in checkouts]
    assert statuses.count(201) == 5 and statuses.count(409) == 25, statuses
    assert {error_code(response) for response in checkouts if response.status_code == 409} == {"insufficient_stock"}
    buyers = [(racers[i], response.json()) for i, response in enumerate(checkouts) if response.status_code == 201]
    payments = race(
        5, lambda i: buyers[i][0].call("POST", "/payment", {"orderId": buyers[i][1]["id"], "token": "tok_visa"})
    )
    assert [response.status_code for response in payments] == [201] * 5
    level = gateway_staff.ok("GET", f"/inventory/{product_id}")
    assert (level["onHand"], level["reserved"], level["stock"]) == (0, 0, 0)
    assert ledger_totals(e2e_server, [product_id]) == {product_id: {"on_hand": 0, "reserved": 0}}


def test_concurrent_payments_of_one_order_charge_once(e2e_server, gateway_staff):
    product_id = product_with_stock(gateway_staff, 5)
    [customer] = customers(e2e_server, 1)
    order = checked_out(customer, product_id, 2)

    attempts = race(6, lambda i: customer.call("POST", "/payment", {"orderId": order["id"], "token": "tok_visa"}))

    assert sorted(response.status_code for response in attempts) == [201, 409, 409, 409, 409, 409], attempts
    assert {error_code(r) for r in attempts if r.status_code == 409} <= {"payment_in_progress", "already_paid"}
    paid_once(customer, order["id"])
    level = gateway_staff.ok("GET", f"/inventory/{product_id}")
    assert (level["onHand"], level["reserved"]) == (3, 0)


def test_retries_with_one_idempotency_key_charge_once(e2e_server, gateway_staff):
    product_id = product_with_stock(gateway_staff, 5)
    [customer] = customers(e2e_server, 1)
    order = checked_out(customer, product_id, 2)
    body, key = {"orderId": order["id"], "token": "tok_visa"}, {"Idempotency-Key": f"pay-{order['id']}"}

    attempts = race(6, lambda i: customer.call("POST", "/payment", body, **key))
    late_retry = customer.call("POST", "/payment", body, **key)

    statuses = [response.status_code for response in attempts]
    assert statuses.count(201) == 1, attempts  # the others: a replay (200) or "still in progress" (409)
    assert set(statuses) <= {200, 201, 409}, attempts
    assert {error_code(r) for r in attempts if r.status_code == 409} <= {"request_in_progress"}
    assert (late_retry.status_code, late_retry.headers.get("Idempotent-Replayed")) == (200, "true")
    assert late_retry.json()["payment"]["status"] == "succeeded"
    paid_once(customer, order["id"])
