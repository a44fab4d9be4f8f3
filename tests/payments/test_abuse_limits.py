"""Limits on payment and checkout attempts (finding 8 of issue 17): card testing on one order, and floods of
attempts by one user, are refused before anything is sent to the payment provider."""

import pytest
from django.test import override_settings

from orders import services as orders
from payments.models import Payment
from tests.conftest import client_for, make_product
from tests.payments.conftest import place_order

pytestmark = pytest.mark.django_db


def pay(client, order_id, token="tok_visa", **headers):
    return client.post("/payment", {"orderId": order_id, "token": token}, format="json", **headers)


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["code"]


def test_after_five_declines_an_order_takes_no_more_attempts_and_the_provider_is_not_asked(
    customer, customer_client, order, use_stripe
):
    for _ in range(5):
        assert error(pay(customer_client, order.id, token="tok_chargeDeclined")) == (402, "card_declined")

    refused = pay(customer_client, order.id, token="tok_visa")

    assert error(refused) == (409, "payment_attempts_exhausted")
    assert use_stripe.charge_count == 5  # the sixth was never sent
    assert Payment.objects.filter(order_id=order.id).count() == 5
    assert orders.get_order(order_id=order.id).status == "pending"
    another = place_order(customer, make_product(stock=5), 1)
    assert pay(customer_client, another.id).status_code == 201  # counted per order


@override_settings(MAX_DECLINED_PAYMENTS_PER_ORDER=2)
def test_the_decline_limit_is_a_setting(customer_client, order, gateway):
    first = pay(customer_client, order.id, token="tok_chargeDeclined", HTTP_IDEMPOTENCY_KEY="card-1")
    assert error(first) == (402, "card_declined")
    assert error(pay(customer_client, order.id, token="tok_chargeDeclined")) == (402, "card_declined")
    assert error(pay(customer_client, order.id)) == (409, "payment_attempts_exhausted")


def test_a_paid_order_replays_its_payment_after_declines(customer_client, order, gateway):
    for _ in range(4):
        pay(customer_client, order.id, token="tok_chargeDeclined")
    paid = pay(customer_client, order.id, HTTP_IDEMPOTENCY_KEY="the-good-card")
    assert paid.status_code == 201
    replay = pay(customer_client, order.id, HTTP_IDEMPOTENCY_KEY="the-good-card")
    assert (replay.status_code, replay.json()) == (200, paid.json())


def test_payment_attempts_are_throttled_per_user_with_retry_after(customer, customer_client, other_client):
    order = place_order(customer, make_product(stock=5), 1)
    paid = pay(customer_client, order.id, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert paid.status_code == 201
    for _ in range(9):  # ten attempts a minute in all
        assert pay(customer_client, 10**12).status_code == 404

    throttled = pay(customer_client, 10**12)

    assert error(throttled) == (429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    assert pay(customer_client, order.id, HTTP_IDEMPOTENCY_KEY="pay-1").status_code == 200  # a replay is served
    assert error(pay(customer_client, order.id, HTTP_IDEMPOTENCY_KEY="pay-2")) == (429, "throttled")
    assert customer_client.get("/payment").status_code == 200  # reading is not an attempt
    assert pay(other_client, 10**12).status_code == 404  # per user


def test_checkouts_are_throttled_per_user_with_retry_after(customer, customer_client):
    from cart import services as cart

    cart.add_to_cart(user_id=customer.id, product_id=make_product(stock=5).id, quantity=1)
    placed = customer_client.post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert placed.status_code == 201
    for _ in range(19):  # twenty a minute in all
        assert error(customer_client.post("/order/checkout", {}, format="json")) == (409, "cart_empty")

    throttled = customer_client.post("/order/checkout", {}, format="json")

    assert error(throttled) == (429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    replay = customer_client.post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert (replay.status_code, replay.json()["id"]) == (200, placed.json()["id"])
    assert client_for(customer).get("/order").status_code == 200


def test_the_schema_documents_the_limits(anon_client):
    paths = anon_client.get("/api/schema", HTTP_ACCEPT="application/json").json()["paths"]
    pay_responses = paths["/payment"]["post"]["responses"]
    assert "`payment_attempts_exhausted`" in pay_responses["409"]["description"]
    for operation in (paths["/payment"]["post"], paths["/order/checkout"]["post"]):
        assert "`throttled`" in operation["responses"]["429"]["description"]
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "429" not in paths["/payment"]["get"]["responses"]
