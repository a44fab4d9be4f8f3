"""Real threads against PostgreSQL: concurrent payments, webhooks and refunds of one order."""

import pytest

from orders import services as orders
from payments import services
from payments.errors import PaymentProviderUnavailable
from payments.gateways import get_gateway
from payments.models import Payment, WebhookEvent
from tests.concurrency.conftest import race
from tests.conftest import client_for
from tests.payments.conftest import ledger, place_order, post_webhook, signed_event, stock
from tests.stripe_server import make_event

pytestmark = pytest.mark.django_db(transaction=True)


def api_client(user):
    client = client_for(user)
    client.raise_request_exception = False
    return client


def test_concurrent_payments_of_one_order_charge_once(gateway, customer, product, stripe_server):
    order = place_order(customer, product, 2)
    stripe_server.delay_seconds = 0.2  # keeps the first charge in flight while the others arrive

    def attempt(i):
        response = api_client(customer).post("/payment", {"orderId": order.id, "token": "tok_visa"}, format="json")
        return response.status_code, response.json()

    results = race(6, attempt)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409, 409, 409, 409, 409], results
    assert {body["errors"][0]["code"] for status, body in results if status == 409} <= {
        "payment_in_progress",
        "already_paid",
    }
    # One payment row was ever started (the losers never reached the provider): one charge request, whichever
    # the gateway; the fake Stripe also counts the charges it took.
    assert [p.status for p in Payment.objects.all()] == ["succeeded"]
    if gateway == "stripe":
        assert stripe_server.charge_count == 1
    assert orders.get_order(order_id=order.id).status == "paid"
    assert ledger(order.id) == [("reservation", 0, 2), ("sale", -2, -2)]
    assert stock(product) == (3, 0)


def test_the_retry_and_the_webhook_settling_one_payment_at_once_record_it_once(
    provider_times_out, webhook_secret, customer, product, stripe_server, anon_client
):
    order = place_order(customer, product, 2)
    with pytest.raises(PaymentProviderUnavailable):
        services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")
    provider_times_out()
    [intent] = stripe_server.payment_intents.values()
    payload, signature = signed_event(make_event("evt_1", "payment_intent.succeeded", intent))

    def settle(i):
        if i == 0:
            return api_client(customer).post("/payment", {"orderId": order.id, "token": "tok_visa"}, format="json")
        return post_webhook(api_client(customer), payload, signature)

    retry, webhook = race(2, settle)

    assert (retry.status_code, webhook.status_code) == (201, 200), (retry.content, webhook.content)
    assert retry.json()["payment"]["status"] == "succeeded"
    assert stripe_server.charge_count == 1
    assert ledger(order.id) == [("reservation", 0, 2), ("sale", -2, -2)]
    assert orders.get_order(order_id=order.id).status == "paid"


def test_concurrent_deliveries_of_one_event_apply_it_once(
    provider_times_out, webhook_secret, customer, product, stripe_server
):
    order = place_order(customer, product, 2)
    with pytest.raises(PaymentProviderUnavailable):
        services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")
    provider_times_out()
    [intent] = stripe_server.payment_intents.values()
    payload, signature = signed_event(make_event("evt_1", "payment_intent.succeeded", intent))

    responses = race(4, lambda i: post_webhook(api_client(customer), payload, signature))

    assert [r.status_code for r in responses] == [200] * 4
    assert WebhookEvent.objects.count() == 1
    assert ledger(order.id) == [("reservation", 0, 2), ("sale", -2, -2)]


def test_a_staff_refund_racing_a_dashboard_refund_returns_the_stock_once(
    use_stripe, webhook_secret, customer, staff, product
):
    order = place_order(customer, product, 2)
    payment = services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")
    intent = use_stripe.payment_intents[payment.provider_reference]
    charge = {
        "id": intent["latest_charge"],
        "object": "charge",
        "amount": intent["amount"],
        "currency": intent["currency"],
        "payment_intent": intent["id"],
        "refunded": True,
    }
    payload, signature = signed_event(make_event("evt_refund", "charge.refunded", charge))
    get_gateway().refund(reference=intent["id"], idempotency_key="from-the-dashboard")  # what the event announces

    def refund(i):
        if i == 0:
            return api_client(staff).post(f"/order/{order.id}/cancel")
        return post_webhook(api_client(staff), payload, signature)

    cancel, webhook = race(2, refund)

    # Staff may find the order refunded already by the webhook: then there is nothing left to cancel.
    assert cancel.status_code == 200 or cancel.json()["errors"][0]["code"] == "invalid_transition", cancel.content
    assert webhook.status_code == 200, webhook.content
    assert orders.get_order(order_id=order.id).status == "refunded"
    assert Payment.objects.get().status == "refunded"
    assert [reason for reason, *_ in ledger(order.id)].count("return") == 1
    assert stock(product) == (5, 0)
    assert use_stripe.refund_count == 1
