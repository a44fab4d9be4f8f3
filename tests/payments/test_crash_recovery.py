"""Payments whose request was cut short: a lost answer, a database outage between the charge and the order."""

from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from ecommerce.models import IdempotencyRecord
from orders import services as orders
from payments.models import Payment
from tests.conftest import WorkerDied, client_for, make_product, make_user, on_every_database, worker_dies_at
from tests.payments.conftest import place_order


def pay(client, order_id, key: str):
    return client.post("/payment", {"orderId": order_id, "token": "tok_visa"}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def charges(gateway: str, stripe_server) -> int | None:
    return stripe_server.charge_count if gateway == "stripe" else None


@pytest.mark.django_db
def test_a_retry_of_a_payment_whose_answer_was_lost_gets_the_same_payment(gateway, customer, order, stripe_server):
    with on_every_database(worker_dies_at('UPDATE "ecommerce_idempotencyrecord"')), pytest.raises(WorkerDied):
        pay(client_for(customer), order.id, "lost-answer")
    paid = Payment.objects.get()
    assert (paid.status, orders.get_order(order_id=order.id).status) == ("succeeded", "paid")
    charged = charges(gateway, stripe_server)

    lease_over = IdempotencyRecord.objects.get(key="lost-answer").locked_until + timedelta(seconds=1)
    with time_machine.travel(lease_over, tick=False):
        retried = pay(client_for(customer), order.id, "lost-answer")

    assert retried.status_code == 201  # the payment, not 409 already_paid
    assert retried.json()["payment"]["id"] == paid.pk
    assert retried.json()["order"]["status"] == "paid"
    assert Payment.objects.count() == 1
    assert charges(gateway, stripe_server) == charged
    another_key = pay(client_for(customer), order.id, "another-request")
    assert (another_key.status_code, another_key.json()["errors"][0]["code"]) == (409, "already_paid")


def failing_once_on(statement: str):
    """The database going away at one statement, the way a restarting server does; then back."""
    failed = []

    def wrapper(execute, sql, params, many, context):
        if sql.startswith(statement) and not failed:
            failed.append(sql)
            raise OperationalError("terminating connection due to administrator command")
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.django_db(transaction=True)  # the charge's lease is ended on a connection of its own
def test_an_outage_between_the_charge_and_its_recording_is_settled_by_the_retry(gateway, stripe_server):
    customer = make_user()
    order = place_order(customer, make_product(price="19.99", stock=5), 2)
    client = client_for(customer)

    with on_every_database(failing_once_on('UPDATE "payments_payment" SET "status"')):
        cut_short = pay(client, order.id, "k")

    assert cut_short.status_code == 503
    assert cut_short.json()["errors"][0]["code"] == "database_unavailable"
    assert cut_short["Retry-After"]
    payment = Payment.objects.get()
    assert (payment.status, payment.in_flight_until) == ("processing", None)  # free to settle at once
    assert orders.get_order(order_id=order.id).status == "pending"
    charged = charges(gateway, stripe_server)

    retried = pay(client, order.id, "k")

    assert retried.status_code == 201
    assert retried.json()["payment"]["id"] == payment.pk
    assert retried.json()["payment"]["status"] == "succeeded"
    assert orders.get_order(order_id=order.id).status == "paid"
    assert charges(gateway, stripe_server) == charged  # the provider replayed its answer: one charge


@pytest.mark.django_db
def test_a_payment_whose_charge_is_still_in_flight_is_409_with_retry_after(customer, order):
    Payment.objects.create(
        order_id=order.id,
        user_id=customer.id,
        amount=order.total,
        currency=order.currency,
        provider="dummy",
        token="tok_visa",
        idempotency_key="payment-in-flight",
        in_flight_until=timezone.now() + timedelta(seconds=7),
    )
    response = pay(client_for(customer), order.id, "k")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "payment_in_progress"
    assert 1 <= int(response["Retry-After"]) <= 7
