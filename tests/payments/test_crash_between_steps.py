"""Each app commits only its own rows; the effects in the next app follow through the outbox.

Here the process "dies" right after each commit: in-process delivery is switched off, so every event
waits for the relay (``relay_events``). Between the steps ``check_consistency`` names what is not done
yet; one relay run takes each flow one step further, and at the end every row is right: one charge, one
sale, stock counted once, the ledger adding up. Real commits, on PostgreSQL and on SQLite.
"""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from orders import services as orders
from outbox import services as outbox
from payments import services
from payments.errors import PaymentProviderUnavailable
from payments.models import Payment
from tests.concurrency.conftest import race
from tests.conftest import make_user
from tests.inventory.test_services import assert_ledger_matches_levels
from tests.payments.conftest import check_consistency as check
from tests.payments.conftest import ledger, stock
from tests.payments.conftest import place_order as checkout

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crash_after_each_commit(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


def place_order(user, product, quantity: int):
    """A placed order; its ``order.placed`` (the cart forgets the lines it gave) and its "received" email's
    ``order.status_changed`` delivered by the relay."""
    order = checkout(user, product, quantity)
    assert relay() == "delivered=2 failed=0 busy=0"
    return order


def problems() -> list[str]:
    return [f"{p.kind} {p.subject}" for p in services.find_inconsistencies()]


def relay() -> str:
    out = StringIO()
    call_command("relay_events", stdout=out)
    return out.getvalue().strip()


def test_payment_then_order_paid_then_stock_sold(crash_after_each_commit, use_stripe, customer, product):
    order = place_order(customer, product, 2)

    payment = services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")

    assert payment.status == "succeeded"  # committed by payments alone; the rest had not happened at the "crash"
    assert orders.get_order(order_id=order.id).status == "pending"
    assert stock(product) == (5, 2)
    assert problems() == [f"payment_succeeded_order_not_paid order {order.id}"]
    assert check()[0] == 1

    assert relay() == "delivered=1 failed=0 busy=0"  # payment.succeeded -> orders (order.paid published)
    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (5, 2)
    assert problems() == [f"paid_order_stock_not_sold order {order.id}"]

    assert relay() == "delivered=2 failed=0 busy=0"  # order.paid -> inventory, and the "paid" email
    assert stock(product) == (3, 0)
    assert problems() == [] and check() == (0, "0 problem(s)\n")
    assert relay() == "delivered=0 failed=0 busy=0"
    assert use_stripe.charge_count == 1
    assert ledger(order.id) == [("reservation", 0, 2), ("sale", -2, -2)]
    assert_ledger_matches_levels()


def test_the_check_repairs_what_the_relay_would(crash_after_each_commit, use_stripe, customer, product):
    order = place_order(customer, product, 2)
    services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")

    status, output = check("--repair")

    assert status == 0 and output.endswith("0 problem(s)\n"), output
    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (3, 0)
    assert use_stripe.charge_count == 1
    assert_ledger_matches_levels()


def test_concurrent_and_repeated_relays_apply_each_event_once(crash_after_each_commit, customer, product):
    paid_orders = []
    for _ in range(3):
        order = checkout(make_user(), product, 1)
        services.pay_order(user_id=order.user_id, order_id=order.id, token="tok_visa")
        paid_orders.append(order)

    for _ in range(2):  # two hops: payment.succeeded, then order.paid
        race(4, lambda i: outbox.deliver_pending())
    race(4, lambda i: outbox.deliver_pending())

    assert {orders.get_order(order_id=o.id).status for o in paid_orders} == {"paid"}
    assert stock(product) == (2, 0)
    assert [ledger(o.id) for o in paid_orders] == [[("reservation", 0, 1), ("sale", -1, -1)]] * 3
    assert problems() == []
    assert_ledger_matches_levels()


def test_cancellation_then_stock_released(crash_after_each_commit, customer, product):
    order = place_order(customer, product, 2)

    orders.cancel_order(order_id=order.id, user_id=customer.id)

    assert stock(product) == (5, 2)
    assert problems() == [f"closed_order_holds_stock order {order.id}"]
    relay()
    assert stock(product) == (5, 0)
    assert problems() == []
    assert_ledger_matches_levels()


def test_expiry_then_a_late_success_holds_the_stock_again_and_sells_it_once(
    crash_after_each_commit, provider_times_out, customer, product
):
    order = place_order(customer, product, 2)
    with pytest.raises(PaymentProviderUnavailable):  # charged at the provider, but we never heard back
        services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")

    with time_machine.travel(order.expires_at + timedelta(minutes=1)):
        assert orders.expire_due_orders() == 1
        assert problems() == [f"closed_order_holds_stock order {order.id}"]  # the release has not arrived
        provider_times_out()  # the provider answers again
        call_command("reconcile_payments", "--older-than-seconds=0", stdout=StringIO())
        for _ in range(3):
            relay()

    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (3, 0)
    assert ledger(order.id) == [("reservation", 0, 2), ("release", 0, -2), ("reservation", 0, 2), ("sale", -2, -2)]
    assert problems() == []
    assert_ledger_matches_levels()


def test_refund_then_order_refunded_then_stock_returned(crash_after_each_commit, use_stripe, customer, staff, product):
    order = place_order(customer, product, 2)
    services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")
    relay(), relay()
    assert stock(product) == (3, 0)

    orders.cancel_order(order_id=order.id, user_id=staff.id, is_staff=True)

    assert Payment.objects.get().status == "refunded"
    assert orders.get_order(order_id=order.id).status == "paid"
    assert problems() == [f"payment_refunded_order_paid order {order.id}"]
    relay()
    assert orders.get_order(order_id=order.id).status == "refunded"
    assert stock(product) == (3, 0)
    assert problems() == [f"refunded_order_stock_not_returned order {order.id}"]
    relay()
    assert stock(product) == (5, 0)
    assert problems() == []
    assert use_stripe.charge_count == 1 and use_stripe.refund_count == 1
    assert_ledger_matches_levels()


def test_an_order_cancelled_before_the_success_arrived_gets_the_money_back(
    crash_after_each_commit, use_stripe, customer, product
):
    order = place_order(customer, product, 2)
    services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")
    orders.cancel_order(order_id=order.id, user_id=customer.id)  # still pending here: the success had not arrived

    assert sorted(problems()) == sorted(
        [f"payment_succeeded_order_not_paid order {order.id}", f"closed_order_holds_stock order {order.id}"]
    )
    relay()  # payment.succeeded -> orders refuses (order.payment_rejected); order.cancelled -> stock released
    relay()  # order.payment_rejected -> payments refunds

    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("refunded", "order_not_payable")
    assert orders.get_order(order_id=order.id).status == "cancelled"
    assert stock(product) == (5, 0)
    assert use_stripe.charge_count == 1 and use_stripe.refund_count == 1
    assert problems() == []
    assert_ledger_matches_levels()
