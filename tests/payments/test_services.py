"""payments.services driven directly: paying orders, declines, timeouts, expiry, refunds and reconciliation."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from orders import services as orders
from payments import services
from payments.errors import CardError, InvalidPaymentToken, NoPaymentToRefund, PaymentInProgress
from payments.errors import PaymentProviderUnavailable as Unavailable
from payments.models import Payment
from tests.conftest import make_user
from tests.payments.conftest import ledger, place_order, stock

pytestmark = pytest.mark.django_db

AFTER_EXPIRY = timedelta(minutes=31)


def pay(order, user, token="tok_visa"):
    return services.pay_order(user_id=user.id, order_id=order.id, token=token)


# --- Paying ----------------------------------------------------------------------------------------


def test_paying_marks_the_order_paid_and_sells_the_stock(gateway, order, customer, product, stripe_server):
    payment = pay(order, customer)

    assert (payment.status, payment.amount, payment.currency) == ("succeeded", Decimal("39.98"), "usd")
    assert (payment.order_id, payment.user_id, payment.provider) == (order.id, customer.id, gateway)
    assert payment.provider_reference and payment.failure_code == ""
    paid = orders.get_order(order_id=order.id)
    assert paid.status == "paid" and paid.paid_at is not None
    assert stock(product) == (3, 0)
    assert ledger(order.id) == [("reservation", 0, 2), ("sale", -2, -2)]
    row = Payment.objects.get()
    assert row.token == ""  # not kept once the outcome is known
    assert row.idempotency_key.startswith(f"payment-o{order.id}-")  # written with the row, by its INSERT
    if gateway == "stripe":
        assert stripe_server.charge_count == 1
        intent = stripe_server.payment_intents[payment.provider_reference]
        assert (intent["amount"], intent["currency"], intent["status"]) == (3998, "usd", "succeeded")
        assert intent["metadata"] == {"order_id": str(order.id), "payment_id": str(payment.id)}
        assert stripe_server.idempotency_keys[payment.provider_reference] == row.idempotency_key


def test_a_decline_keeps_the_order_payable_and_another_card_pays(gateway, order, customer, product):
    with pytest.raises(CardError) as declined:
        pay(order, customer, token="tok_chargeDeclinedInsufficientFunds")

    assert (declined.value.status, declined.value.code) == (402, "insufficient_funds")
    failed = Payment.objects.get()
    assert (failed.status, failed.failure_code) == ("failed", "insufficient_funds")
    assert failed.failure_message == "Your card has insufficient funds."
    assert failed.provider_reference == declined.value.reference != ""
    assert orders.get_order(order_id=order.id).status == "pending"
    assert stock(product) == (5, 2)

    payment = pay(order, customer, token="pm_card_mastercard")

    assert payment.status == "succeeded" and payment.id != failed.id
    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (3, 0)


def test_an_unknown_token_leaves_no_payment_and_keeps_the_order_payable(gateway, order, customer, stripe_server):
    with pytest.raises(InvalidPaymentToken) as invalid:
        pay(order, customer, token="card_visa")

    assert (invalid.value.status, invalid.value.attr) == (400, "token")
    assert not Payment.objects.exists()
    assert orders.get_order(order_id=order.id).status == "pending"
    assert pay(order, customer).status == "succeeded"
    assert stripe_server.charge_count == (1 if gateway == "stripe" else 0)


def test_a_card_needing_authentication_is_declined_as_such(use_stripe, order, customer):
    with pytest.raises(CardError) as declined:
        pay(order, customer, token="pm_card_threeDSecure2Required")

    assert declined.value.code == "authentication_required"
    assert Payment.objects.get().status == "failed"
    assert orders.get_order(order_id=order.id).status == "pending"


def test_an_order_is_paid_only_once(gateway, order, customer, stripe_server):
    pay(order, customer)

    with pytest.raises(orders.AlreadyPaid):
        pay(order, customer, token="tok_mastercard")

    assert Payment.objects.count() == 1
    assert stripe_server.charge_count == (1 if gateway == "stripe" else 0)


def test_someone_elses_or_an_unknown_order_is_not_found(order, other_customer):
    with pytest.raises(orders.OrderNotFound):
        pay(order, other_customer)
    with pytest.raises(orders.OrderNotFound):
        services.pay_order(user_id=other_customer.id, order_id=order.id + 1000, token="tok_visa")
    assert not Payment.objects.exists()


def test_a_cancelled_order_cannot_be_paid(order, customer):
    orders.cancel_order(order_id=order.id, user_id=customer.id)

    with pytest.raises(orders.OrderNotPayable):
        pay(order, customer)
    assert not Payment.objects.exists()


def test_an_expired_order_cannot_be_paid_and_its_stock_is_released(order, customer, product):
    with time_machine.travel(order.expires_at + timedelta(seconds=1)), pytest.raises(orders.OrderNotPayable):
        pay(order, customer)

    assert orders.get_order(order_id=order.id).status == "cancelled"
    assert stock(product) == (5, 0)
    assert not Payment.objects.exists()


# --- Timeouts: the charge may have happened ----------------------------------------------------------


def test_a_timeout_leaves_the_payment_processing_and_the_retry_does_not_charge_twice(
    provider_times_out, order, customer, product, stripe_server
):
    with pytest.raises(Unavailable) as unavailable:
        pay(order, customer)

    assert (unavailable.value.status, unavailable.value.code) == (503, "payment_provider_unavailable")
    assert stripe_server.charge_count == 1  # Stripe charged; we did not hear back
    assert Payment.objects.get().status == "processing"
    assert orders.get_order(order_id=order.id).status == "pending"
    assert stock(product) == (5, 2)

    provider_times_out()  # recovers
    payment = pay(order, customer, token="tok_mastercard")  # another card: the first one paid already

    assert stripe_server.charge_count == 1
    assert payment.id == Payment.objects.get().id and payment.status == "succeeded"
    assert payment.provider_reference == next(iter(stripe_server.payment_intents))
    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (3, 0)


def test_a_declined_charge_that_timed_out_is_settled_then_the_new_card_is_charged(
    provider_times_out, order, customer, stripe_server
):
    with pytest.raises(Unavailable):
        pay(order, customer, token="tok_chargeDeclined")
    provider_times_out()

    payment = pay(order, customer, token="tok_visa")

    assert payment.status == "succeeded"
    assert stripe_server.charge_count == 2  # the declined attempt (replayed, not repeated) and the new one
    assert list(Payment.objects.order_by("id").values_list("status", "failure_code")) == [
        ("failed", "card_declined"),
        ("succeeded", ""),
    ]


def test_a_provider_error_before_charging_is_retried_with_a_single_charge(use_stripe, order, customer):
    use_stripe.fail_next(1, status=503)
    with pytest.raises(Unavailable):
        pay(order, customer)
    assert use_stripe.charge_count == 0

    assert pay(order, customer).status == "succeeded"
    assert use_stripe.charge_count == 1
    assert Payment.objects.count() == 1


def test_a_payment_whose_request_is_running_is_not_sent_again(use_stripe, order, customer):
    """A processing payment with a request in flight (another worker): 409, and nothing sent meanwhile."""
    Payment.objects.create(
        order_id=order.id,
        user_id=customer.id,
        amount=order.total,
        currency="usd",
        provider="stripe",
        token="tok_visa",
        idempotency_key="payment-in-flight",
        in_flight_until=timezone.now() + timedelta(seconds=20),
    )

    with pytest.raises(PaymentInProgress) as in_progress:
        pay(order, customer, token="tok_mastercard")
    assert (in_progress.value.status, in_progress.value.code) == (409, "payment_in_progress")
    assert use_stripe.charge_count == 0

    with time_machine.travel(timezone.now() + timedelta(minutes=1)):  # that worker died
        payment = pay(order, customer, token="tok_mastercard")
    assert payment.status == "succeeded"
    assert use_stripe.idempotency_keys[payment.provider_reference] == "payment-in-flight"
    assert use_stripe.charge_count == 1


# --- Success after expiry ------------------------------------------------------------------------------


def test_a_success_after_expiry_reserves_the_stock_again(provider_times_out, order, customer, product):
    with pytest.raises(Unavailable):
        pay(order, customer)
    provider_times_out()

    with time_machine.travel(order.expires_at + timedelta(minutes=1)):
        assert orders.expire_due_orders() == 1
        assert stock(product) == (5, 0)
        payment = pay(order, customer)

    assert payment.status == "succeeded"
    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (3, 0)
    assert [reason for reason, *_ in ledger(order.id)] == ["reservation", "release", "reservation", "sale"]


def test_a_success_after_expiry_without_stock_is_refunded(provider_times_out, order, customer, product, stripe_server):
    with pytest.raises(Unavailable):
        pay(order, customer)
    provider_times_out()

    with time_machine.travel(order.expires_at + timedelta(minutes=1)):
        orders.expire_due_orders()
        place_order(make_user(), product, 4)  # someone else buys the units meanwhile
        with pytest.raises(orders.OrderNotPayable) as not_payable:
            pay(order, customer)

    assert "refunded" in not_payable.value.message
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("refunded", "order_not_payable")
    assert stripe_server.refund_count == 1
    [refund] = stripe_server.refunds.values()
    assert refund["payment_intent"] == payment.provider_reference
    assert stripe_server.idempotency_keys[refund["id"]] == f"refund-{payment.idempotency_key}"
    assert orders.get_order(order_id=order.id).status == "cancelled"
    assert stock(product) == (5, 4)


# --- Reconciliation ----------------------------------------------------------------------------------


def test_reconcile_settles_a_stuck_payment_once(provider_times_out, order, customer, product, stripe_server):
    with pytest.raises(Unavailable):
        pay(order, customer)
    provider_times_out()

    assert services.reconcile_processing_payments()["succeeded"] == 0  # too young: its request may be running
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        counts = services.reconcile_processing_payments()
        again = services.reconcile_processing_payments()

    assert counts["succeeded"] == 1 and sum(counts.values()) == 1
    assert sum(again.values()) == 0
    assert stripe_server.charge_count == 1
    assert Payment.objects.get().status == "succeeded"
    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (3, 0)
    # The customer's retry is told of the success it missed, once.
    assert pay(order, customer).status == "succeeded"
    with pytest.raises(orders.AlreadyPaid):
        pay(order, customer)


def test_reconcile_command_records_failures_and_reports_counts(provider_times_out, order, customer, capsys):
    with pytest.raises(Unavailable):
        pay(order, customer, token="tok_chargeDeclinedExpiredCard")
    provider_times_out()

    call_command("reconcile_payments", "--older-than-seconds", "0")

    assert "failed=1" in capsys.readouterr().out
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("failed", "expired_card")
    assert orders.get_order(order_id=order.id).status == "pending"


def test_reconcile_leaves_a_payment_processing_while_the_provider_is_down(
    provider_times_out, order, customer, stripe_server
):
    with pytest.raises(Unavailable):
        pay(order, customer)
    provider_times_out()
    stripe_server.fail_next(1, status=503)

    assert services.reconcile_processing_payments(older_than=timedelta(0))["unavailable"] == 1
    assert Payment.objects.get().status == "processing"
    assert services.reconcile_processing_payments(older_than=timedelta(0))["succeeded"] == 1
    assert stripe_server.charge_count == 1


def test_reconcile_does_not_resend_a_charge_older_than_the_providers_idempotency_window(
    provider_times_out, order, customer, stripe_server
):
    with pytest.raises(Unavailable):
        pay(order, customer)
    provider_times_out()

    with time_machine.travel(timezone.now() + timedelta(hours=30)):
        counts = services.reconcile_processing_payments()

    assert counts["needs_review"] == 1
    assert Payment.objects.get().status == "processing"
    assert stripe_server.charge_count == 1


# --- Refunds asked for by orders ---------------------------------------------------------------------


def test_staff_cancelling_a_paid_order_refunds_it_and_returns_the_stock(
    gateway, order, customer, staff, product, stripe_server
):
    payment = pay(order, customer)

    refunded = orders.cancel_order(order_id=order.id, user_id=staff.id, is_staff=True)

    assert refunded.status == "refunded"
    assert Payment.objects.get().status == "refunded"
    assert stock(product) == (5, 0)
    assert ledger(order.id)[-1] == ("return", 2, 0)
    if gateway == "stripe":
        assert stripe_server.refund_count == 1
        assert next(iter(stripe_server.refunds.values()))["payment_intent"] == payment.provider_reference


def test_a_refund_while_the_provider_is_down_leaves_the_order_paid(use_stripe, order, customer, staff, product):
    pay(order, customer)
    use_stripe.fail_next(1, status=500)

    with pytest.raises(orders.RefundProviderUnavailable):
        orders.cancel_order(order_id=order.id, user_id=staff.id, is_staff=True)

    assert orders.get_order(order_id=order.id).status == "paid"
    assert Payment.objects.get().status == "succeeded"
    assert stock(product) == (3, 0)
    assert orders.change_order_status(order_id=order.id, status="refunded", actor_id=staff.id).status == "refunded"
    assert use_stripe.refund_count == 1


def test_an_order_paid_without_a_payment_of_ours_is_not_refunded(order, staff):
    orders.mark_order_paid(order_id=order.id)  # e.g. a seed or a manual fix: no money was taken through us

    with pytest.raises(NoPaymentToRefund) as no_payment:
        orders.cancel_order(order_id=order.id, user_id=staff.id, is_staff=True)

    assert (no_payment.value.status, no_payment.value.code) == (409, "no_payment_to_refund")
    assert orders.get_order(order_id=order.id).status == "paid"


# --- Queries -----------------------------------------------------------------------------------------


def test_list_payments_of_an_order(order, customer, other_customer):
    with pytest.raises(CardError):
        pay(order, customer, token="tok_chargeDeclined")
    pay(order, customer)

    mine = services.list_payments(order_id=order.id, user_id=customer.id)

    assert [p.status for p in mine] == ["succeeded", "failed"]
    assert services.list_payments(order_id=order.id) == mine
    with pytest.raises(orders.OrderNotFound):
        services.list_payments(order_id=order.id, user_id=other_customer.id)
