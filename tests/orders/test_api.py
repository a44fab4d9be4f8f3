from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from cart import services as cart
from catalog import services as catalog
from ecommerce.addresses import PostalAddress
from ecommerce.serializers import represent
from inventory import services as inventory
from orders import services as orders
from orders.serializers import OrderSerializer
from tests.conftest import client_for, make_product, make_user

pytestmark = pytest.mark.django_db


def checkout(client, **headers):
    return client.post("/order/checkout", {}, format="json", **headers)


def fill_cart(user, product, quantity=1):
    cart.add_to_cart(user_id=user.id, product_id=product.id, quantity=quantity)


def stock(product):
    return inventory.get_stock_level(product_id=product.id)


def test_checkout_creates_a_pending_order_holding_stock_and_empties_the_cart(customer, customer_client, product):
    other = make_product(price="0.10", stock=3)
    fill_cart(customer, product, 2)
    fill_cart(customer, other, 3)
    response = checkout(customer_client)
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "pending" and order["userId"] == customer.id
    assert order["items"] == [
        {"productId": product.id, "name": "Blue Mug", "unitPrice": "19.99", "quantity": 2, "lineTotal": "39.98"},
        {"productId": other.id, "name": other.name, "unitPrice": "0.10", "quantity": 3, "lineTotal": "0.30"},
    ]
    assert (order["subtotal"], order["total"], order["currency"], order["paidAt"]) == ("40.28", "40.28", "usd", None)
    expires_at = timezone.datetime.fromisoformat(order["expiresAt"])
    assert timedelta(minutes=29) < expires_at - timezone.now() <= timedelta(minutes=30)
    assert (stock(product).reserved, stock(product).available) == (2, 3)
    assert stock(other).available == 0
    assert customer_client.get("/cart").json()["items"] == []


def test_empty_cart_is_409_cart_empty(customer_client):
    response = checkout(customer_client)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "cart_empty"


def test_line_over_available_stock_names_the_product_reserves_nothing_and_keeps_the_cart(
    customer, customer_client, product
):
    plenty = make_product(stock=10)
    fill_cart(customer, plenty, 1)
    fill_cart(customer, product, 3)
    inventory.adjust_stock(product_id=product.id, delta=-3)  # only 2 left now
    response = checkout(customer_client)
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert (error["code"], error["productIds"]) == ("insufficient_stock", [product.id])
    assert stock(plenty).reserved == 0 and stock(product).reserved == 0
    assert customer_client.get("/cart").json()["totalQuantity"] == 4
    assert customer_client.get("/order").json()["count"] == 0


def test_withdrawn_product_in_cart_blocks_checkout(customer, customer_client, product):
    fill_cart(customer, product, 1)
    catalog.deactivate_product(product_id=product.id)
    response = checkout(customer_client)
    assert response.status_code == 409
    assert response.json()["errors"][0]["productIds"] == [product.id]


def test_unknown_body_fields_are_rejected(customer, customer_client, product):
    fill_cart(customer, product)
    response = customer_client.post("/order/checkout", {"total": "0.01", "status": "paid"}, format="json")
    assert response.status_code == 400
    assert stock(product).reserved == 0


def test_order_lines_are_snapshots(customer_client, pending_order, product, staff):
    catalog.update_product(product_id=product.id, price=Decimal("99.00"), name="Renamed")
    order = customer_client.get(f"/order/{pending_order.id}").json()
    assert (order["items"][0]["name"], order["items"][0]["unitPrice"], order["total"]) == ("Blue Mug", "19.99", "39.98")


def test_orders_are_private(customer_client, other_client, pending_order):
    assert other_client.get(f"/order/{pending_order.id}").status_code == 404
    assert other_client.post(f"/order/{pending_order.id}/cancel").status_code == 404
    assert other_client.get("/order").json()["count"] == 0
    assert customer_client.get(f"/order/{pending_order.id}/").status_code == 200
    assert customer_client.get("/order/999999").status_code == 404


def test_list_is_newest_first_and_staff_can_filter(customer, other_customer, customer_client, staff_client):
    product = make_product(stock=100)
    ids = []
    for user in (customer, other_customer, customer):
        fill_cart(user, product)
        ids.append(orders.checkout(user_id=user.id).id)
    orders.cancel_order(order_id=ids[0], user_id=customer.id)
    own = customer_client.get("/order").json()
    assert [o["id"] for o in own["results"]] == [ids[2], ids[0]]
    assert customer_client.get(f"/order?userId={other_customer.id}").json()["count"] == 2  # ignored for customers
    everyone = staff_client.get("/order").json()
    assert [o["id"] for o in everyone["results"]] == ids[::-1]
    assert [o["id"] for o in staff_client.get(f"/order?userId={other_customer.id}").json()["results"]] == [ids[1]]
    assert [o["id"] for o in staff_client.get("/order?status=cancelled").json()["results"]] == [ids[0]]
    assert staff_client.get("/order?status=lost").status_code == 400
    assert staff_client.get("/order?userId=abc").status_code == 400
    assert staff_client.get("/order?pageSize=1&page=2").json()["results"][0]["id"] == ids[1]


@override_settings(MAX_PENDING_ORDERS=8)
@pytest.mark.parametrize("orders_count", [1, 8])
def test_order_list_costs_a_fixed_number_of_queries(customer, customer_client, count_queries, orders_count):
    products = [make_product(stock=100) for _ in range(3)]
    for _ in range(orders_count):
        for p in products:
            fill_cart(customer, p)
        orders.checkout(user_id=customer.id)
    with count_queries() as read:
        assert customer_client.get("/order").json()["count"] == orders_count
    assert len(read.statements) <= 5, read.statements  # expiry, count, page, its lines, its timelines


def test_owner_cancels_pending_order_and_stock_is_released(customer_client, pending_order, product):
    response = customer_client.post(f"/order/{pending_order.id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert (stock(product).reserved, stock(product).available) == (0, 5)
    again = customer_client.post(f"/order/{pending_order.id}/cancel")
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "invalid_transition"


def test_customer_cannot_cancel_a_paid_order_or_change_status(customer_client, paid_order):
    assert customer_client.post(f"/order/{paid_order.id}/cancel").status_code == 409
    response = customer_client.patch(f"/order/{paid_order.id}/status", {"status": "shipped"}, format="json")
    assert response.status_code == 403
    assert orders.get_order(order_id=paid_order.id).status == "paid"


def test_staff_ship_and_deliver(staff_client, paid_order):
    shipped = staff_client.patch(f"/order/{paid_order.id}/status", {"status": "shipped"}, format="json")
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    delivered = staff_client.patch(f"/order/{paid_order.id}/status/", {"status": "delivered"}, format="json")
    assert delivered.json()["status"] == "delivered"


ILLEGAL = {
    "pending": ["pending", "shipped", "delivered", "refunded"],
    "paid": ["pending", "delivered"],
    "shipped": ["pending", "shipped", "cancelled", "refunded"],
    "delivered": ["pending", "shipped", "delivered", "cancelled", "refunded"],
    "cancelled": ["pending", "shipped", "delivered", "cancelled", "refunded"],
}


def order_in(status: str, user) -> int:
    fill_cart(user, make_product(stock=10))
    order_id = orders.checkout(user_id=user.id).id
    if status == "cancelled":
        orders.cancel_order(order_id=order_id, user_id=user.id)
    if status in ("paid", "shipped", "delivered"):
        orders.mark_order_paid(order_id=order_id)
    if status in ("shipped", "delivered"):
        orders.change_order_status(order_id=order_id, status="shipped", actor_id=1)
    if status == "delivered":
        orders.change_order_status(order_id=order_id, status="delivered", actor_id=1)
    return order_id


@pytest.mark.parametrize("source, target", [(s, t) for s, targets in ILLEGAL.items() for t in targets])
def test_every_illegal_transition_is_409(staff_client, customer, source, target):
    order_id = order_in(source, customer)
    response = staff_client.patch(f"/order/{order_id}/status", {"status": target}, format="json")
    if target in ("pending", "paid"):
        assert response.status_code == 400  # never settable by hand
    else:
        assert response.status_code == 409, response.json()
        assert response.json()["errors"][0]["code"] == "invalid_transition"
    assert orders.get_order(order_id=order_id).status == source


def test_paid_is_reached_only_through_payment(staff_client, pending_order):
    response = staff_client.patch(f"/order/{pending_order.id}/status", {"status": "paid"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "status"


def test_staff_cancel_of_pending_order_releases_stock(staff_client, pending_order, product):
    response = staff_client.patch(f"/order/{pending_order.id}/status", {"status": "cancelled"}, format="json")
    assert response.json()["status"] == "cancelled"
    assert stock(product).reserved == 0


def test_same_idempotency_key_returns_the_same_order(customer, customer_client, product):
    fill_cart(customer, product, 1)
    first = checkout(customer_client, HTTP_IDEMPOTENCY_KEY="checkout-1")
    fill_cart(customer, product, 1)
    second = checkout(customer_client, HTTP_IDEMPOTENCY_KEY="checkout-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert customer_client.get("/order").json()["count"] == 1
    assert stock(product).reserved == 1
    assert customer_client.get("/cart").json()["totalQuantity"] == 1  # the second request did nothing
    assert checkout(customer_client, HTTP_IDEMPOTENCY_KEY="checkout-2").status_code == 201


def test_idempotency_key_is_per_user_and_checked(customer, other_customer, product):
    for user in (customer, other_customer):
        fill_cart(user, product, 1)
        assert checkout(client_for(user), HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    reused = client_for(customer).post("/order/checkout", {"unexpected": 1}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert reused.status_code in (400, 422)
    too_long = checkout(client_for(customer), HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert too_long.status_code == 400


def test_a_failed_checkout_is_not_replayed(customer, customer_client, product):
    assert checkout(customer_client, HTTP_IDEMPOTENCY_KEY="k1").status_code == 409  # empty cart
    fill_cart(customer, product)
    assert checkout(customer_client, HTTP_IDEMPOTENCY_KEY="k1").status_code == 201


def test_expiry_command_releases_stock_once(pending_order, product):
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        call_command("release_expired_reservations")
        assert orders.get_order(order_id=pending_order.id).status == "cancelled"
        assert (stock(product).reserved, stock(product).available) == (0, 5)
        movements_before = inventory_movement_count()
        call_command("release_expired_reservations")
        assert inventory_movement_count() == movements_before
        assert stock(product).available == 5


def inventory_movement_count() -> int:
    return len(inventory.list_stock_movements(limit=10_000))


def test_expired_order_reads_as_cancelled_before_the_command_runs(customer, pending_order, product):
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        customer_client = client_for(customer)  # a token issued in the future, still valid there
        assert customer_client.get(f"/order/{pending_order.id}").json()["status"] == "cancelled"
        assert stock(product).reserved == 0
        cancel = customer_client.post(f"/order/{pending_order.id}/cancel")
        assert cancel.status_code == 409


def test_expired_orders_are_cancelled_in_lists(customer, pending_order):
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        assert client_for(customer).get("/order").json()["results"][0]["status"] == "cancelled"


def test_the_staff_list_reads_without_expiring_orders_and_leaves_the_sweep_to_the_job(staff, pending_order, product):
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        listed = client_for(staff).get("/order").json()["results"]
        assert [(o["id"], o["status"]) for o in listed] == [(pending_order.id, "pending")]
        assert stock(product).reserved == 2  # nothing was written on the way
        call_command("release_expired_reservations")
        assert client_for(staff).get("/order").json()["results"][0]["status"] == "cancelled"
        assert stock(product).reserved == 0


def test_anonymous_is_401(anon_client, pending_order):
    assert anon_client.get("/order").status_code == 401
    assert anon_client.get(f"/order/{pending_order.id}").status_code == 401
    assert checkout(anon_client).status_code == 401


def test_staff_sees_any_order(staff_client, pending_order):
    assert staff_client.get(f"/order/{pending_order.id}").json()["id"] == pending_order.id


def test_order_ids_of_other_users_do_not_leak_through_cancel_or_status(other_client, pending_order):
    make_user()
    assert other_client.post(f"/order/{pending_order.id}/cancel").status_code == 404
    assert orders.get_order(order_id=pending_order.id).status == "pending"


def test_an_order_is_represented_as_its_serializer_gives_it(customer):
    """``represent`` (one serializer instance kept per class) sends what a new OrderSerializer would, for orders
    in different states (a delivery address and method, a timeline of several changes, none of them)."""
    method = orders.list_shipping_options(subtotal=0)[1]
    address = PostalAddress.build(name="Ann Smith", line1="1 High St", city="Bath", postal_code="BA1 1AA", country="GB")
    cart.add_to_cart(user_id=customer.id, product_id=make_product(price="12.50").id, quantity=2)
    shipped = orders.checkout(user_id=customer.id, shipping_address=address, shipping_method_id=method.id)
    orders.mark_order_paid(order_id=shipped.id)
    cart.add_to_cart(user_id=customer.id, product_id=make_product(price="3.10").id, quantity=1)
    plain = orders.checkout(user_id=customer.id)
    for order_id in (shipped.id, plain.id, shipped.id):  # the kept instance again, after another order
        info = orders.get_order(order_id=order_id)
        assert represent(OrderSerializer, info) == OrderSerializer(info).data
