"""The payments process killed (SIGKILL, master and workers) in the middle of a payment storm, then restarted.

The payments process charges through the Stripe gateway, against a fake Stripe that takes its time to
answer, so charges are in flight (taken, not yet answered) when the process dies. Customers keep paying
through the gateway; half of them retry (with their Idempotency-Key) until they get an answer, the other
half give up at their first error. Afterwards the operator's jobs run as cron runs them. Every paid order
is charged and paid exactly once; every other is cancelled with its stock back; no cross-app invariant is
broken.
"""

import collections
import time

import pytest
import requests

from tests.concurrency.conftest import race
from tests.e2e.test_purchase_flow import let_order_expire
from tests.split.conftest import (
    OUTBOX_LEASE_SECONDS,
    PAYMENT_LEASE_SECONDS,
    checked_out,
    customers,
    paid_once,
    product_with_stock,
)
from tests.stripe_server import StripeServer

pytestmark = pytest.mark.e2e

CUSTOMERS = 20
STOCK = 100
# Charges taken before the kill: the process charges 8 at once (2 workers x 4 threads), so the second round
# is taken and waiting for its answers (STRIPE_DELAY_SECONDS) when it dies.
CHARGES_BEFORE_THE_KILL = 10
STRIPE_DELAY_SECONDS = 0.3
RETRY_FOR_SECONDS = 60  # the keys and payments the killed process held are taken over after their short leases


def pay(customer, order_id: int, *, persistent: bool) -> str:
    """What became of one customer's payment: "paid", or the error the customer gave up on."""
    body, key = {"orderId": order_id, "token": "tok_visa"}, {"Idempotency-Key": f"storm-{order_id}"}
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    while True:
        try:
            response = customer.call("POST", "/payment", body, **key)
        except requests.ConnectionError as error:
            outcome, wait = repr(error), 0.5
        else:
            if response.status_code in (200, 201):
                return "paid"
            outcome, wait = f"HTTP {response.status_code}", float(response.headers.get("Retry-After", 0.5))
            if response.status_code not in (409, 429, 502, 503, 504):
                return outcome  # not a failure a retry can mend
        if not persistent or time.monotonic() > deadline:
            return outcome
        time.sleep(min(wait, 2.0))


@pytest.fixture
def payments_on_fake_stripe(e2e_server):
    """The payments process restarted on the Stripe gateway against a slow fake Stripe; restarted as it was after."""
    with StripeServer() as fake:
        fake.delay_seconds = STRIPE_DELAY_SECONDS  # the charge is taken, then answered
        gateway = {"PAYMENT_GATEWAY": "stripe", "STRIPE_SECRET_KEY": "sk_test_split", "STRIPE_API_BASE": fake.url}
        e2e_server.split.kill("payments")
        e2e_server.split.start("payments", **gateway)
        yield fake, gateway
        e2e_server.split.kill("payments")
        e2e_server.split.start("payments")


def test_payments_killed_in_a_payment_storm_and_restarted(e2e_server, gateway_staff, payments_on_fake_stripe):
    fake_stripe, gateway = payments_on_fake_stripe
    product_id = product_with_stock(gateway_staff, STOCK)
    buyers = customers(e2e_server, CUSTOMERS)
    orders = race(CUSTOMERS, lambda i: checked_out(buyers[i], product_id, 2)["id"])
    killed_at = []

    def storm(i):
        if i == CUSTOMERS:  # the operator's bad day: payments dies while charges are in flight
            deadline = time.monotonic() + 30
            while fake_stripe.charge_count < CHARGES_BEFORE_THE_KILL and time.monotonic() < deadline:
                time.sleep(0.005)
            e2e_server.split.kill("payments")
            killed_at.append(time.monotonic())
            time.sleep(1)
            e2e_server.split.start("payments", **gateway)
            return "restarted"
        return pay(buyers[i], orders[i], persistent=i % 2 == 0)

    outcomes = race(CUSTOMERS + 1, storm)

    assert outcomes[-1] == "restarted", outcomes
    assert all(outcome == "paid" for outcome in outcomes[:CUSTOMERS:2]), outcomes  # the persistent ones
    assert any(outcome != "paid" for outcome in outcomes[1:CUSTOMERS:2]), outcomes  # some hit the outage
    # The operator's jobs: payments the crash left processing are settled, pending events delivered, the
    # orders nobody paid expire. Commands run with every app in process (no broker needed).
    operator = {"EVENT_BROKER_URL": "", **gateway}
    # The leases the killed process held end: its charges', and its events' (a success it committed, not delivered).
    time.sleep(max(0.0, killed_at[0] + max(PAYMENT_LEASE_SECONDS, OUTBOX_LEASE_SECONDS) - time.monotonic()))
    reconciled = e2e_server.manage("reconcile_payments", "--older-than-seconds", "0", env=operator)
    assert "unavailable=0 in_progress=0 needs_review=0 errors=0" in reconciled, reconciled
    e2e_server.manage("relay_events", env=operator)
    statuses = {order_id: buyers[i].ok("GET", f"/order/{order_id}")["status"] for i, order_id in enumerate(orders)}
    unpaid = [order_id for order_id, status in statuses.items() if status != "paid"]
    let_order_expire(e2e_server, *unpaid)
    e2e_server.manage("release_expired_reservations", env=operator)

    for i, order_id in enumerate(orders):
        if order_id in unpaid:
            assert buyers[i].ok("GET", f"/order/{order_id}")["status"] == "cancelled"
            payments = buyers[i].ok("GET", f"/payment?orderId={order_id}")["results"]
            assert "succeeded" not in {payment["status"] for payment in payments}, payments
        else:
            paid_once(buyers[i], order_id)
    charged = collections.Counter(
        int(intent["metadata"]["order_id"])
        for intent in fake_stripe.payment_intents.values()
        if intent["status"] == "succeeded"
    )
    assert charged == {order_id: 1 for order_id in orders if order_id not in unpaid}  # one charge per paid order
    sold = 2 * (CUSTOMERS - len(unpaid))
    level = gateway_staff.ok("GET", f"/inventory/{product_id}")
    assert (level["onHand"], level["reserved"]) == (STOCK - sold, 0)
    # Also: the product's levels are the sum of its ledger, no payment succeeded on an unpaid order...
    assert e2e_server.manage("check_consistency").splitlines()[-1] == "0 problem(s)"
