"""POST /payment/webhook: Stripe's signed events, each applied once, racing the API and the reconciler."""

import json
import time
from datetime import timedelta

import pytest
import time_machine

from orders import services as orders
from payments import services
from payments.errors import PaymentProviderUnavailable
from payments.models import Payment, WebhookEvent
from tests.conftest import make_user
from tests.payments.conftest import WEBHOOK_SECRET, ledger, place_order, post_webhook, signed_event, stock
from tests.stripe_server import make_event

pytestmark = pytest.mark.django_db


def pay(order, user, token="tok_visa"):
    return services.pay_order(user_id=user.id, order_id=order.id, token=token)


@pytest.fixture
def timed_out(provider_times_out, webhook_secret, order, customer, stripe_server):
    """The customer's payment timed out after Stripe charged: processing here, succeeded at Stripe."""
    with pytest.raises(PaymentProviderUnavailable):
        pay(order, customer)
    provider_times_out()
    [intent] = stripe_server.payment_intents.values()
    return intent


def deliver(client, event_id, type, data_object):
    return post_webhook(client, *signed_event(make_event(event_id, type, data_object)))


# --- Signatures --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "garbage",
        "t=1,v1=0123",
        "t=notanumber,v1=abc",
        "v1=abc",
    ],
)
def test_a_missing_or_malformed_signature_is_400(anon_client, webhook_secret, signature):
    payload = json.dumps(make_event("evt_1", "payment_intent.succeeded", {"id": "pi_1"})).encode()

    response = post_webhook(anon_client, payload, signature)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()


def test_a_signature_made_with_another_secret_or_for_another_body_is_400(anon_client, webhook_secret):
    payload, signature = signed_event(make_event("evt_1", "charge.refunded", {"id": "ch_1"}), secret="whsec_other")
    assert post_webhook(anon_client, payload, signature).status_code == 400

    payload, signature = signed_event(make_event("evt_1", "charge.refunded", {"id": "ch_1"}))
    tampered = payload.replace(b"ch_1", b"ch_2")
    assert post_webhook(anon_client, tampered, signature).status_code == 400


def test_an_old_signature_is_400(anon_client, webhook_secret):
    payload, signature = signed_event(make_event("evt_1", "charge.refunded", {}), timestamp=int(time.time()) - 3600)

    assert post_webhook(anon_client, payload, signature).status_code == 400


def test_without_a_configured_secret_every_webhook_is_refused(anon_client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload, signature = signed_event(make_event("evt_1", "charge.refunded", {}), secret="")

    response = post_webhook(anon_client, payload, signature)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_signature"


@pytest.mark.parametrize("payload", [b"", b"not json", b"[1, 2]", b'"text"', b"{}", b'{"id": 1}', b"\xff\xfe"])
def test_signed_garbage_is_400_never_500(anon_client, webhook_secret, payload):
    from tests.stripe_server import sign_webhook_payload

    response = post_webhook(anon_client, payload, sign_webhook_payload(payload, WEBHOOK_SECRET))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] in {"invalid_payload", "invalid_signature"}


def test_webhook_needs_no_user_token_and_accepts_a_trailing_slash(anon_client, webhook_secret):
    payload, signature = signed_event(make_event("evt_1", "customer.created", {"id": "cus_1"}))

    response = anon_client.post(
        "/payment/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert not WebhookEvent.objects.exists()


# --- payment_intent.succeeded --------------------------------------------------------------------------


def test_a_success_event_settles_a_timed_out_payment_and_the_retry_is_told_without_a_second_charge(
    anon_client, timed_out, order, customer, product, stripe_server
):
    response = deliver(anon_client, "evt_1", "payment_intent.succeeded", timed_out)

    assert response.status_code == 200 and response.json() == {"status": "applied"}
    payment = Payment.objects.get()
    assert (payment.status, payment.provider_reference) == ("succeeded", timed_out["id"])
    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (3, 0)

    retried = pay(order, customer)  # the customer's retry of the request that timed out

    assert (retried.id, retried.status) == (payment.id, "succeeded")
    assert stripe_server.charge_count == 1
    with pytest.raises(orders.AlreadyPaid):  # told once; paying again is paying twice
        pay(order, customer)


def test_a_redelivered_event_is_applied_once(anon_client, timed_out, order, product):
    first = deliver(anon_client, "evt_1", "payment_intent.succeeded", timed_out)
    again = deliver(anon_client, "evt_1", "payment_intent.succeeded", timed_out)

    assert (first.json(), again.json()) == ({"status": "applied"}, {"status": "duplicate"})
    assert again.status_code == 200
    assert WebhookEvent.objects.get().event_id == "evt_1"
    assert ledger(order.id) == [("reservation", 0, 2), ("sale", -2, -2)]


def test_a_success_event_after_the_api_settled_the_payment_changes_nothing(anon_client, timed_out, order, customer):
    assert pay(order, customer).status == "succeeded"  # the retry settled it first

    response = deliver(anon_client, "evt_late", "payment_intent.succeeded", timed_out)

    assert response.json() == {"status": "applied"}
    assert Payment.objects.get().status == "succeeded"
    assert ledger(order.id) == [("reservation", 0, 2), ("sale", -2, -2)]


def test_a_success_event_for_an_expired_order_reserves_the_stock_again(anon_client, timed_out, order, product):
    with time_machine.travel(order.expires_at + timedelta(minutes=1)):
        orders.expire_due_orders()
        response = deliver(anon_client, "evt_1", "payment_intent.succeeded", timed_out)

    assert response.status_code == 200
    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (3, 0)


def test_a_success_event_for_an_order_whose_stock_is_gone_is_refunded(
    anon_client, timed_out, order, product, stripe_server
):
    with time_machine.travel(order.expires_at + timedelta(minutes=1)):
        orders.expire_due_orders()
        place_order(make_user(), product, 5)
        response = deliver(anon_client, "evt_1", "payment_intent.succeeded", timed_out)

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("refunded", "order_not_payable")
    assert stripe_server.refund_count == 1
    assert orders.get_order(order_id=order.id).status == "cancelled"
    assert stock(product) == (5, 5)


def test_a_refund_that_could_not_be_sent_is_retried_by_the_redelivery(
    anon_client, timed_out, order, product, stripe_server
):
    with time_machine.travel(order.expires_at + timedelta(minutes=1)):
        orders.expire_due_orders()
        place_order(make_user(), product, 5)
        stripe_server.fail_next(1, status=500)
        anon_client.raise_request_exception = False  # server errors are reported, and the test client re-raises them
        failed = deliver(anon_client, "evt_1", "payment_intent.succeeded", timed_out)

        assert failed.status_code == 503  # Stripe delivers the event again later
        assert Payment.objects.get().status == "processing"
        assert not WebhookEvent.objects.exists()

        redelivered = deliver(anon_client, "evt_1", "payment_intent.succeeded", timed_out)

    assert redelivered.json() == {"status": "applied"}
    assert Payment.objects.get().status == "refunded"
    assert stripe_server.refund_count == 1


def test_an_event_about_a_payment_that_is_not_ours_changes_nothing(anon_client, timed_out, order):
    stranger = {**timed_out, "id": "pi_someone_else", "metadata": {"payment_id": str(Payment.objects.get().pk)}}
    stranger["amount"] = timed_out["amount"] + 1  # same payment id, another database's payment

    response = deliver(anon_client, "evt_1", "payment_intent.succeeded", stranger)

    assert response.status_code == 200
    assert Payment.objects.get().status == "processing"
    assert orders.get_order(order_id=order.id).status == "pending"


# --- payment_intent.payment_failed ---------------------------------------------------------------------


def test_a_failure_event_fails_a_processing_payment_and_the_order_stays_payable(
    anon_client, provider_times_out, webhook_secret, order, customer, stripe_server
):
    with pytest.raises(PaymentProviderUnavailable):
        pay(order, customer, token="tok_chargeDeclinedInsufficientFunds")
    provider_times_out()
    [intent] = stripe_server.payment_intents.values()

    response = deliver(anon_client, "evt_1", "payment_intent.payment_failed", intent)

    assert response.json() == {"status": "applied"}
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("failed", "insufficient_funds")
    assert payment.failure_message == "Your card has insufficient funds."
    assert orders.get_order(order_id=order.id).status == "pending"
    assert pay(order, customer).status == "succeeded"
    assert stripe_server.charge_count == 2


# --- charge.refunded -----------------------------------------------------------------------------------


def charge_of(intent, *, refunded=True):
    return {
        "id": intent["latest_charge"],
        "object": "charge",
        "amount": intent["amount"],
        "currency": intent["currency"],
        "payment_intent": intent["id"],
        "refunded": refunded,
        "metadata": {},
    }


@pytest.fixture
def paid_through_stripe(use_stripe, webhook_secret, order, customer):
    payment = pay(order, customer)
    return use_stripe.payment_intents[payment.provider_reference]


def test_a_refund_made_at_stripe_refunds_the_order_and_returns_the_stock(
    anon_client, paid_through_stripe, order, product
):
    response = deliver(anon_client, "evt_1", "charge.refunded", charge_of(paid_through_stripe))
    again = deliver(anon_client, "evt_1", "charge.refunded", charge_of(paid_through_stripe))

    assert (response.json(), again.json()) == ({"status": "applied"}, {"status": "duplicate"})
    assert Payment.objects.get().status == "refunded"
    assert orders.get_order(order_id=order.id).status == "refunded"
    assert stock(product) == (5, 0)
    assert [reason for reason, *_ in ledger(order.id)].count("return") == 1


def test_a_partial_refund_at_stripe_is_left_to_staff(anon_client, paid_through_stripe, order):
    response = deliver(anon_client, "evt_1", "charge.refunded", charge_of(paid_through_stripe, refunded=False))

    assert response.status_code == 200
    assert Payment.objects.get().status == "succeeded"
    assert orders.get_order(order_id=order.id).status == "paid"


def test_the_refund_event_of_our_own_refund_changes_nothing(
    anon_client, paid_through_stripe, order, staff, product, stripe_server
):
    orders.cancel_order(order_id=order.id, user_id=staff.id, is_staff=True)

    response = deliver(anon_client, "evt_1", "charge.refunded", charge_of(paid_through_stripe))

    assert response.status_code == 200
    assert orders.get_order(order_id=order.id).status == "refunded"
    assert [reason for reason, *_ in ledger(order.id)].count("return") == 1
    assert stripe_server.refund_count == 1


def test_a_refund_at_stripe_of_a_shipped_order_marks_the_payment_only(anon_client, paid_through_stripe, order, staff):
    orders.change_order_status(order_id=order.id, status="shipped", actor_id=staff.id)

    response = deliver(anon_client, "evt_1", "charge.refunded", charge_of(paid_through_stripe))

    assert response.status_code == 200
    assert Payment.objects.get().status == "refunded"
    assert orders.get_order(order_id=order.id).status == "shipped"  # goods are out: staff settle it


def test_a_success_after_a_recorded_failure_is_refunded_and_the_order_stays_payable(
    anon_client, timed_out, order, customer, stripe_server
):
    """Events may arrive out of order: money taken for an attempt we recorded as failed goes back."""
    failed_attempt = {**timed_out, "status": "requires_payment_method", "last_payment_error": {"code": "card_declined"}}
    deliver(anon_client, "evt_1", "payment_intent.payment_failed", failed_attempt)
    assert Payment.objects.get().status == "failed"

    response = deliver(anon_client, "evt_2", "payment_intent.succeeded", timed_out)

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("refunded", "card_declined")
    assert stripe_server.refund_count == 1
    assert orders.get_order(order_id=order.id).status == "pending"
    assert pay(order, customer).status == "succeeded"
    assert stripe_server.charge_count == 2


def test_a_success_after_a_recorded_failure_does_not_hold_an_expired_orders_stock_again(
    anon_client, timed_out, order, product, stripe_server
):
    """Only a payment still processing has its order reserved again: this one failed, its money goes back."""
    failed_attempt = {**timed_out, "status": "requires_payment_method", "last_payment_error": {"code": "card_declined"}}
    deliver(anon_client, "evt_1", "payment_intent.payment_failed", failed_attempt)
    with time_machine.travel(order.expires_at + timedelta(minutes=1)):
        orders.expire_due_orders()
        response = deliver(anon_client, "evt_2", "payment_intent.succeeded", timed_out)

    assert response.status_code == 200
    assert Payment.objects.get().status == "refunded"
    assert stripe_server.refund_count == 1
    assert orders.get_order(order_id=order.id).status == "cancelled"
    assert stock(product) == (5, 0)
    assert [reason for reason, *_ in ledger(order.id)] == ["reservation", "release"]
