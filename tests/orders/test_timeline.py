"""The order timeline: every status change, with who made it, when and why, on GET /order/:id."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cart import services as cart
from orders import services as orders
from orders.models import StatusChange
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def timeline(client, order_id):
    response = client.get(f"/order/{order_id}")
    assert response.status_code == 200
    return [
        (e["fromStatus"], e["toStatus"], e["actor"], e["actorId"], e["reason"]) for e in response.json()["timeline"]
    ]


def place(client, customer, product, quantity=1):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=quantity)
    response = client.post("/order/checkout", {}, format="json")
    assert response.status_code == 201
    return response.json()


def test_checkout_answers_with_the_placed_entry(customer, customer_client, product):
    order = place(customer_client, customer, product)
    [placed] = order["timeline"]
    assert placed["fromStatus"] is None and placed["toStatus"] == "pending"
    assert (placed["actor"], placed["actorId"], placed["reason"]) == ("customer", customer.id, "")
    assert placed["at"] == order["createdAt"]
    assert timeline(customer_client, order["id"]) == [(None, "pending", "customer", customer.id, "")]


def test_a_paid_shipped_delivered_order_shows_each_step_with_its_actor(customer, customer_client, staff, product):
    order = place(customer_client, customer, product)
    paid = customer_client.post("/payment", {"orderId": order["id"], "token": "tok_visa"}, format="json")
    assert paid.status_code == 201
    staff_client = client_for(staff)
    shipped = staff_client.patch(
        f"/order/{order['id']}/status", {"status": "shipped", "reason": "DHL 00340434161094015902"}, format="json"
    )
    assert shipped.status_code == 200
    staff_client.patch(f"/order/{order['id']}/status", {"status": "delivered"}, format="json")

    assert timeline(customer_client, order["id"]) == [
        (None, "pending", "customer", customer.id, ""),
        ("pending", "paid", "payment_provider", None, ""),
        ("paid", "shipped", "staff", staff.id, "DHL 00340434161094015902"),
        ("shipped", "delivered", "staff", staff.id, ""),
    ]
    entries = customer_client.get(f"/order/{order['id']}").json()["timeline"]
    times = [timezone.datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times)


def test_a_customer_cancellation_keeps_the_customers_reason(customer, customer_client, product):
    order = place(customer_client, customer, product)
    response = customer_client.post(
        f"/order/{order['id']}/cancel", {"reason": "Ordered the wrong colour"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["timeline"][-1] == {
        "fromStatus": "pending",
        "toStatus": "cancelled",
        "at": response.json()["updatedAt"],
        "actor": "customer",
        "actorId": customer.id,
        "reason": "Ordered the wrong colour",
    }


def test_the_expiry_job_is_named_as_the_canceller(customer, customer_client, product):
    order = place(customer_client, customer, product)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert orders.expire_due_orders() == 1
    assert timeline(customer_client, order["id"])[-1] == (
        "pending",
        "cancelled",
        "expiry_job",
        None,
        "Not paid before its reservation expired.",
    )


def test_a_payment_after_expiry_says_the_stock_was_reserved_again(customer, customer_client, product):
    order = place(customer_client, customer, product)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        orders.expire_due_orders()
        orders.mark_order_paid(order_id=order["id"])
    assert [(e[0], e[1], e[2]) for e in timeline(customer_client, order["id"])] == [
        (None, "pending", "customer"),
        ("pending", "cancelled", "expiry_job"),
        ("cancelled", "paid", "payment_provider"),
    ]
    assert "reserved again" in timeline(customer_client, order["id"])[-1][4]


def test_a_staff_refund_names_the_staff_user_and_the_reason(customer, customer_client, staff, product):
    order = place(customer_client, customer, product)
    customer_client.post("/payment", {"orderId": order["id"], "token": "tok_visa"}, format="json")
    response = client_for(staff).post(
        f"/order/{order['id']}/cancel", {"reason": "Damaged in the warehouse"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "refunded"
    assert timeline(customer_client, order["id"])[-1] == (
        "paid",
        "refunded",
        "staff",
        staff.id,
        "Damaged in the warehouse",
    )


def test_a_refund_reported_by_the_provider_names_the_provider(paid_order):
    orders.mark_order_refunded(order_id=paid_order.id)
    entry = orders.get_order(order_id=paid_order.id).timeline[-1]
    assert (entry.from_status, entry.to_status, entry.actor, entry.actor_id) == (
        "paid",
        "refunded",
        "payment_provider",
        None,
    )


def test_a_refused_move_writes_no_entry(customer, customer_client, staff, product):
    order = place(customer_client, customer, product)
    response = client_for(staff).patch(f"/order/{order['id']}/status", {"status": "shipped"}, format="json")
    assert response.status_code == 409
    assert StatusChange.objects.filter(order_id=order["id"]).count() == 1


def test_a_repeated_refund_or_payment_record_adds_no_second_entry(paid_order):
    orders.mark_order_paid(order_id=paid_order.id)
    orders.mark_order_refunded(order_id=paid_order.id)
    orders.mark_order_refunded(order_id=paid_order.id)
    assert [e.to_status for e in orders.get_order(order_id=paid_order.id).timeline] == ["pending", "paid", "refunded"]


@pytest.mark.parametrize(
    ("reason", "code"),
    [("x" * 501, "max_length"), (["a list"], "invalid"), ({"an": "object"}, "invalid")],
)
def test_a_bad_reason_is_400_and_changes_nothing(customer, customer_client, product, reason, code):
    order = place(customer_client, customer, product)
    response = customer_client.post(f"/order/{order['id']}/cancel", {"reason": reason}, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == (code, "reason")
    assert customer_client.get(f"/order/{order['id']}").json()["status"] == "pending"


def test_a_unicode_reason_is_kept_as_written(customer, customer_client, product):
    order = place(customer_client, customer, product)
    reason = "Commandé deux fois 🙈 — 重复订单"
    customer_client.post(f"/order/{order['id']}/cancel", {"reason": reason}, format="json")
    assert timeline(customer_client, order["id"])[-1][4] == reason
