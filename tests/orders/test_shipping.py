"""Checkout with a delivery address and a shipping method; GET /order/shipping-methods."""

from decimal import Decimal

import pytest

from cart import services as cart
from inventory import services as inventory
from orders.models import ShippingMethod
from tests.conftest import make_product

pytestmark = pytest.mark.django_db

ADDRESS = {"name": "Ann Smith", "line1": "1 High St", "city": "Bath", "postalCode": "BA1 1AA", "country": "GB"}


@pytest.fixture
def methods(db):
    """The two methods the migration offers: Standard 4.99 (free from 50.00) and Express 14.99."""
    return {m.name: m for m in ShippingMethod.objects.all()}


def fill(user, price="10.00", quantity=1, stock=10):
    product = make_product(price=price, stock=stock)
    cart.add_to_cart(user_id=user.id, product_id=product.id, quantity=quantity)
    return product


def checkout(client, body, **headers):
    return client.post("/order/checkout", body, format="json", **headers)


def error(response) -> tuple[str | None, str]:
    first = response.json()["errors"][0]
    return first["attr"], first["code"]


def test_the_methods_are_priced_for_the_cart(customer, customer_client, methods):
    fill(customer, "20.00")
    listed = customer_client.get("/order/shipping-methods").json()
    assert [(m["name"], m["price"], m["flatPrice"], m["freeOver"]) for m in listed] == [
        ("Standard", "4.99", "4.99", "50.00"),
        ("Express", "14.99", "14.99", None),
    ]
    fill(customer, "30.00")  # subtotal 50.00: Standard is free
    assert [m["price"] for m in customer_client.get("/order/shipping-methods/").json()] == ["0.00", "14.99"]


def test_staff_changes_are_offered_at_once(customer, customer_client, methods):
    methods["Express"].is_active = False
    methods["Express"].save()
    methods["Standard"].free_over = None
    methods["Standard"].save()
    fill(customer, "99.00")
    assert [(m["name"], m["price"]) for m in customer_client.get("/order/shipping-methods").json()] == [
        ("Standard", "4.99")
    ]


def test_the_method_list_needs_a_login(anon_client):
    assert anon_client.get("/order/shipping-methods").status_code == 401


def test_checkout_with_an_address_and_a_method_adds_shipping_to_the_total(customer, customer_client, methods):
    fill(customer, "12.50", quantity=2)
    response = checkout(customer_client, {"shippingAddress": ADDRESS, "shippingMethodId": methods["Express"].id})
    assert response.status_code == 201
    order = response.json()
    assert (order["subtotal"], order["shipping"], order["total"]) == ("25.00", "14.99", "39.99")
    assert order["shippingMethod"] == {"id": methods["Express"].id, "name": "Express"}
    assert order["shippingAddress"] == {**ADDRESS, "line2": "", "phone": ""}
    assert customer_client.get(f"/order/{order['id']}").json() == order


def test_shipping_is_free_from_the_threshold(customer, customer_client, methods):
    fill(customer, "50.00")
    order = checkout(customer_client, {"shippingAddress": ADDRESS, "shippingMethodId": methods["Standard"].id}).json()
    assert (order["shipping"], order["total"]) == ("0.00", "50.00")


def test_the_order_keeps_its_copy_when_the_method_or_the_saved_address_changes(customer, customer_client, methods):
    saved = customer_client.post("/auth/me/addresses", ADDRESS, format="json").json()
    fill(customer, "10.00")
    order = checkout(customer_client, {"addressId": saved["id"], "shippingMethodId": methods["Standard"].id}).json()
    assert order["shippingAddress"]["city"] == "Bath" and order["total"] == "14.99"

    customer_client.put(f"/auth/me/addresses/{saved['id']}", {**ADDRESS, "city": "Leeds"}, format="json")
    methods["Standard"].name, methods["Standard"].price = "Economy", Decimal("1.00")
    methods["Standard"].save()
    again = customer_client.get(f"/order/{order['id']}").json()
    assert (again["shippingAddress"]["city"], again["shippingMethod"]["name"], again["total"]) == (
        "Bath",
        "Standard",
        "14.99",
    )
    methods["Standard"].delete()
    assert customer_client.get(f"/order/{order['id']}").json()["shippingMethod"] == {"id": None, "name": "Standard"}


def test_the_payment_charges_the_total_with_shipping(customer, customer_client, methods):
    fill(customer, "10.00")
    order = checkout(customer_client, {"shippingAddress": ADDRESS, "shippingMethodId": methods["Express"].id}).json()
    paid = customer_client.post("/payment", {"orderId": order["id"], "token": "tok_visa"}, format="json")
    assert paid.status_code == 201
    assert paid.json()["payment"]["amount"] == "24.99"
    assert paid.json()["order"]["shippingAddress"]["postalCode"] == "BA1 1AA"


def test_an_empty_body_still_places_an_order_without_delivery(customer, customer_client):
    fill(customer, "10.00")
    order = checkout(customer_client, {}).json()
    assert (order["shipping"], order["total"], order["shippingMethod"], order["shippingAddress"]) == (
        "0.00",
        "10.00",
        None,
        None,
    )


def test_a_retried_checkout_with_the_same_key_answers_the_first_order(customer, customer_client, methods):
    fill(customer, "10.00")
    body = {"shippingAddress": ADDRESS, "shippingMethodId": methods["Express"].id}
    first = checkout(customer_client, body, HTTP_IDEMPOTENCY_KEY="k-1")
    second = checkout(customer_client, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, second.json()) == (201, first.json())
    other = checkout(customer_client, {**body, "shippingMethodId": methods["Standard"].id}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and error(other)[1] == "idempotency_key_reused"
    assert customer_client.get("/order").json()["count"] == 1


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"shippingAddress": ADDRESS}, 400, ("shippingMethodId", "shipping_method_required")),
        ({"shippingMethodId": "standard"}, 400, ("shippingMethodId", "invalid")),
        ({"shippingMethodId": 0}, 400, ("shippingMethodId", "min_value")),
        ({"shippingMethodId": 2**63}, 400, ("shippingMethodId", "max_value")),
        (
            {"shippingAddress": ADDRESS, "shippingMethodId": 999999},
            404,
            ("shippingMethodId", "shipping_method_unavailable"),
        ),
        ({"addressId": 999999, "shippingMethodId": "STANDARD"}, 404, (None, "not_found")),
        ({"shippingAddress": {**ADDRESS, "country": "UK"}}, 400, ("shippingAddress.country", "invalid_country")),
        ({"shippingAddress": {**ADDRESS, "city": "x" * 101}}, 400, ("shippingAddress.city", "max_length")),
        ({"shippingAddress": {**ADDRESS, "name": "\u200bAnn"}}, 400, ("shippingAddress.name", "invalid_characters")),
        ({"shippingAddress": {**ADDRESS, "floor": 3}}, 400, ("shippingAddress.floor", "unknown_field")),
        ({"shippingAddress": {"name": "Ann"}}, 400, ("shippingAddress.line1", "required")),
        ({"shippingAddress": "1 High St, Bath"}, 400, ("shippingAddress.nonFieldErrors", "invalid")),
        ({"shippingAddress": None}, 400, ("shippingAddress", "null")),
        (
            {"shippingAddress": ADDRESS, "addressId": 1, "shippingMethodId": "STANDARD"},
            400,
            ("addressId", "ambiguous_address"),
        ),
    ],
)
def test_bad_delivery_input_is_refused_and_leaves_the_cart_and_stock_alone(
    customer, customer_client, methods, body, status, expected
):
    body = {k: (methods["Standard"].id if v == "STANDARD" else v) for k, v in body.items()}
    product = fill(customer, "10.00", quantity=2, stock=5)
    response = checkout(customer_client, body)
    assert response.status_code == status, response.json()
    assert error(response) == expected
    assert customer_client.get("/cart").json()["totalQuantity"] == 2
    assert inventory.get_stock_level(product_id=product.id).reserved == 0
    assert customer_client.get("/order").json()["count"] == 0


def test_a_method_alone_asks_for_an_address(customer, customer_client, methods):
    fill(customer)
    response = checkout(customer_client, {"shippingMethodId": methods["Standard"].id})
    assert response.status_code == 400 and error(response) == ("shippingAddress", "shipping_address_required")


def test_another_customers_saved_address_is_not_found(customer, customer_client, other_client, methods):
    theirs = other_client.post("/auth/me/addresses", ADDRESS, format="json").json()
    fill(customer)
    response = checkout(customer_client, {"addressId": theirs["id"], "shippingMethodId": methods["Standard"].id})
    assert response.status_code == 404


def test_a_withdrawn_method_cannot_be_chosen(customer, customer_client, methods):
    methods["Express"].is_active = False
    methods["Express"].save()
    fill(customer)
    response = checkout(customer_client, {"shippingAddress": ADDRESS, "shippingMethodId": methods["Express"].id})
    assert response.status_code == 404 and error(response)[1] == "shipping_method_unavailable"


def test_the_database_refuses_a_total_that_does_not_add_up(paid_order):
    from django.db import IntegrityError

    from ecommerce.db import atomic
    from orders.models import Order

    with pytest.raises(IntegrityError), atomic("orders"):
        Order.objects.filter(pk=paid_order.id).update(shipping=Decimal("1.00"))
