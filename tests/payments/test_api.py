"""/payment over HTTP with APIClient: paying, the error answers, idempotency keys and listing."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from orders import services as orders
from payments.models import Payment
from tests.conftest import client_for, make_product
from tests.payments.conftest import ledger, place_order, stock

pytestmark = pytest.mark.django_db


def pay(client, order_id, token="tok_visa", **headers):
    return client.post("/payment", {"orderId": order_id, "token": token}, format="json", **headers)


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


# --- POST /payment -------------------------------------------------------------------------------------


def test_paying_answers_the_payment_and_the_paid_order(gateway, customer_client, order, product):
    response = pay(customer_client, order.id)

    assert response.status_code == 201
    body = response.json()
    payment, paid = body["payment"], body["order"]
    assert set(payment) == {
        "id",
        "orderId",
        "amount",
        "currency",
        "status",
        "provider",
        "providerReference",
        "failureCode",
        "failureMessage",
        "createdAt",
    }
    assert (payment["orderId"], payment["amount"], payment["currency"]) == (order.id, "39.98", "usd")
    assert (payment["status"], payment["provider"], payment["failureCode"]) == ("succeeded", gateway, "")
    assert payment["providerReference"]
    assert "token" not in response.content.decode()
    assert (paid["id"], paid["status"], paid["total"]) == (order.id, "paid", "39.98")
    assert paid["paidAt"] is not None
    assert paid["items"] == [
        {"productId": product.id, "name": "Blue Mug", "unitPrice": "19.99", "quantity": 2, "lineTotal": "39.98"}
    ]
    assert stock(product) == (3, 0)
    assert ledger(order.id)[-1] == ("sale", -2, -2)


def test_the_paid_order_is_shown_exactly_as_the_orders_api_shows_it(customer_client, order):
    paid = pay(customer_client, order.id).json()["order"]

    assert paid == customer_client.get(f"/order/{order.id}").json()


def test_a_decline_is_402_with_the_providers_code_and_another_card_then_pays(gateway, customer_client, order, product):
    declined = pay(customer_client, order.id, token="pm_card_chargeDeclinedExpiredCard")

    assert declined.status_code == 402
    assert error_code(declined) == "expired_card"
    assert declined.json()["errors"][0]["detail"] == "Your card has expired."
    assert orders.get_order(order_id=order.id).status == "pending"
    assert stock(product) == (5, 2)

    paid = pay(customer_client, order.id, token="tok_visa")

    assert paid.status_code == 201
    assert list(Payment.objects.order_by("id").values_list("status", flat=True)) == ["failed", "succeeded"]


def test_an_unknown_token_is_400_on_the_token_field_and_lists_no_payment(gateway, customer_client, order):
    response = pay(customer_client, order.id, token="card_visa")

    assert response.status_code == 400
    assert (error_code(response), response.json()["errors"][0]["attr"]) == ("invalid_payment_token", "token")
    listed = customer_client.get("/payment", {"orderId": order.id})
    assert (listed.status_code, listed.json()["count"]) == (200, 0)


def test_paying_a_paid_order_is_409_already_paid(customer_client, order):
    assert pay(customer_client, order.id).status_code == 201

    response = pay(customer_client, order.id, token="tok_mastercard")

    assert response.status_code == 409
    assert error_code(response) == "already_paid"
    assert Payment.objects.count() == 1


def test_someone_elses_or_an_unknown_order_is_404(other_client, customer_client, order):
    assert pay(other_client, order.id).status_code == 404
    assert pay(customer_client, order.id + 1000).status_code == 404
    assert not Payment.objects.exists()


def test_a_cancelled_order_is_409_not_payable(customer_client, customer, order):
    orders.cancel_order(order_id=order.id, user_id=customer.id)

    response = pay(customer_client, order.id)

    assert response.status_code == 409
    assert error_code(response) == "order_not_payable"


def test_an_expired_order_is_409_not_payable(customer, order, product):
    with time_machine.travel(order.expires_at + timedelta(seconds=1)):
        response = pay(client_for(customer), order.id)  # a fresh access token: the old one expired too

    assert response.status_code == 409
    assert error_code(response) == "order_not_payable"
    assert stock(product) == (5, 0)


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"token": "tok_visa"}, "orderId"),
        ({"orderId": 1}, "token"),
        ({"orderId": "one", "token": "tok_visa"}, "orderId"),
        ({"orderId": 0, "token": "tok_visa"}, "orderId"),
        ({"orderId": 10**20, "token": "tok_visa"}, "orderId"),
        ({"orderId": 1, "token": "t" * 256}, "token"),
        ({"orderId": 1, "token": ""}, "token"),
        ({"orderId": 1, "token": "tok_visa", "amount": "0.01"}, "amount"),
    ],
)
def test_bad_input_is_400(customer_client, body, attr):
    response = customer_client.post("/payment/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr


def test_paying_needs_a_user(anon_client, order):
    assert pay(anon_client, order.id).status_code == 401


def test_a_provider_timeout_is_503_and_the_retry_pays_with_one_charge(
    provider_times_out, customer_client, order, stripe_server
):
    customer_client.raise_request_exception = False  # server errors are reported, and the test client re-raises them
    timed_out = pay(customer_client, order.id)

    assert timed_out.status_code == 503
    assert error_code(timed_out) == "payment_provider_unavailable"
    assert orders.get_order(order_id=order.id).status == "pending"
    assert Payment.objects.get().status == "processing"
    assert customer_client.get(f"/payment?orderId={order.id}").json()["results"][0]["status"] == "processing"

    provider_times_out()
    retried = pay(customer_client, order.id)

    assert retried.status_code == 201
    assert retried.json()["order"]["status"] == "paid"
    assert stripe_server.charge_count == 1


# --- Idempotency-Key -----------------------------------------------------------------------------------


def test_the_same_idempotency_key_pays_once_and_replays_the_answer(customer_client, order, use_stripe):
    first = pay(customer_client, order.id, HTTP_IDEMPOTENCY_KEY="pay-order-1")
    again = pay(customer_client, order.id, HTTP_IDEMPOTENCY_KEY="pay-order-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Payment.objects.count() == 1
    assert use_stripe.charge_count == 1


def test_an_idempotency_key_reused_with_another_body_is_422(customer_client, order):
    assert pay(customer_client, order.id, HTTP_IDEMPOTENCY_KEY="pay-order-1").status_code == 201

    response = pay(customer_client, order.id, token="tok_mastercard", HTTP_IDEMPOTENCY_KEY="pay-order-1")

    assert response.status_code == 422
    assert error_code(response) == "idempotency_key_reused"


def test_a_declined_request_is_not_replayed_for_its_key(customer_client, order):
    declined = pay(customer_client, order.id, token="tok_chargeDeclined", HTTP_IDEMPOTENCY_KEY="k1")
    assert declined.status_code == 402

    # Same key and body: the request runs again (a failure changed nothing worth replaying) and declines again.
    assert pay(customer_client, order.id, token="tok_chargeDeclined", HTTP_IDEMPOTENCY_KEY="k1").status_code == 402
    assert Payment.objects.filter(status="failed").count() == 2


# --- GET /payment --------------------------------------------------------------------------------------


@pytest.fixture
def payments_of_two_customers(customer, other_customer, customer_client, other_client, product):
    """Customer: a failed and a succeeded payment of one order; other customer: one payment."""
    mine = place_order(customer, product, 1)
    pay(customer_client, mine.id, token="tok_chargeDeclined")
    pay(customer_client, mine.id)
    theirs = place_order(other_customer, product, 1)
    pay(other_client, theirs.id)
    return mine, theirs


def test_the_owner_lists_the_payments_of_an_order_newest_first(customer_client, payments_of_two_customers):
    mine, _ = payments_of_two_customers

    response = customer_client.get(f"/payment?orderId={mine.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(p["orderId"], p["status"]) for p in body["results"]] == [(mine.id, "succeeded"), (mine.id, "failed")]
    assert body["results"][1]["failureCode"] == "card_declined"


def test_someone_elses_or_an_unknown_order_is_404_for_a_customer(customer_client, payments_of_two_customers):
    _, theirs = payments_of_two_customers

    assert customer_client.get(f"/payment?orderId={theirs.id}").status_code == 404
    assert customer_client.get("/payment?orderId=999999").status_code == 404
    response = customer_client.get("/payment?orderId=abc")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "orderId"


def test_without_an_order_a_customer_sees_their_own_payments_and_staff_see_all(
    customer_client, staff_client, payments_of_two_customers
):
    mine, theirs = payments_of_two_customers

    own = customer_client.get("/payment/").json()
    everyone = staff_client.get("/payment").json()

    assert [p["orderId"] for p in own["results"]] == [mine.id, mine.id]
    assert everyone["count"] == 3
    assert staff_client.get(f"/payment?orderId={theirs.id}").json()["count"] == 1


@override_settings(MAX_PENDING_ORDERS=9)  # many unpaid orders of one customer, on purpose
def test_the_list_is_paginated_and_costs_the_same_queries_whatever_its_length(customer, customer_client, count_queries):
    product = make_product(stock=50)
    for _ in range(3):
        declined = place_order(customer, product, 1)
        pay(customer_client, declined.id, token="tok_chargeDeclined")
    with count_queries() as few:
        customer_client.get("/payment?pageSize=50")
    for _ in range(6):
        declined = place_order(customer, product, 1)
        pay(customer_client, declined.id, token="tok_chargeDeclined")

    with count_queries() as many:
        body = customer_client.get("/payment?pageSize=50").json()
    page = customer_client.get("/payment?pageSize=4&page=2").json()

    assert body["count"] == 9 and len(body["results"]) == 9
    assert len(many.statements) == len(few.statements) <= 2
    assert len(page["results"]) == 4 and page["next"] and page["previous"]


def test_listing_needs_a_user(anon_client):
    assert anon_client.get("/payment").status_code == 401


# --- Refund by staff -----------------------------------------------------------------------------------


def test_staff_cancelling_a_paid_order_refunds_it(
    gateway, customer_client, staff_client, order, product, stripe_server
):
    assert pay(customer_client, order.id).status_code == 201

    response = staff_client.post(f"/order/{order.id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "refunded"
    assert customer_client.get(f"/payment?orderId={order.id}").json()["results"][0]["status"] == "refunded"
    assert stock(product) == (5, 0)
    assert ledger(order.id)[-1] == ("return", 2, 0)
    assert stripe_server.refund_count == (1 if gateway == "stripe" else 0)


def test_a_staff_refund_while_the_provider_is_down_is_503_and_the_order_stays_paid(
    use_stripe, customer_client, staff_client, order, product
):
    assert pay(customer_client, order.id).status_code == 201
    use_stripe.fail_next(1, status=503)
    staff_client.raise_request_exception = False

    response = staff_client.patch(f"/order/{order.id}/status", {"status": "refunded"}, format="json")

    assert response.status_code == 503
    assert orders.get_order(order_id=order.id).status == "paid"
    assert stock(product) == (3, 0)
    assert use_stripe.refund_count == 0


def test_the_payment_timestamps_are_utc(customer_client, order):
    created = pay(customer_client, order.id).json()["payment"]["createdAt"]

    assert created.endswith("Z")
    assert abs(timezone.now() - timezone.datetime.fromisoformat(created)) < timedelta(minutes=1)
