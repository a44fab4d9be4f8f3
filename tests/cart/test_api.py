from decimal import Decimal

import pytest

from cart import services
from cart.api import CartSerializer
from catalog import services as catalog
from ecommerce.serializers import represent
from inventory import services as inventory
from tests.conftest import make_product

pytestmark = pytest.mark.django_db


def add(client, product_id, quantity=1):
    return client.post("/cart", {"productId": product_id, "quantity": quantity}, format="json")


def test_empty_cart(customer_client):
    body = customer_client.get("/cart").json()
    assert body == {"items": [], "totalQuantity": 0, "subtotal": "0.00", "currency": "usd", "updatedAt": None}


def test_add_accumulates_and_prices_at_current_prices(customer_client, product):
    add(customer_client, product.id, 2)
    response = add(customer_client, product.id, 1)
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == [
        {
            "productId": product.id,
            "name": "Blue Mug",
            "unitPrice": "19.99",
            "quantity": 3,
            "lineTotal": "59.97",
            "stock": 5,
        }
    ]
    assert (body["totalQuantity"], body["subtotal"], body["currency"]) == (3, "59.97", "usd")
    catalog.update_product(product_id=product.id, price=Decimal("10.00"))
    assert customer_client.get("/cart/").json()["subtotal"] == "30.00"


def test_more_than_available_is_409_and_cart_unchanged(customer_client, product):
    add(customer_client, product.id, 4)
    response = add(customer_client, product.id, 2)
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "insufficient_stock"
    assert error["productIds"] == [product.id]
    assert customer_client.get("/cart").json()["items"][0]["quantity"] == 4


def test_adding_past_the_line_cap_is_409_and_cart_unchanged(customer_client):
    """Each request is valid (quantity <= 1000): it is the line it would make that the cart refuses."""
    plenty = make_product(stock=5000)
    assert add(customer_client, plenty.id, 600).status_code == 200
    response = add(customer_client, plenty.id, 600)
    assert response.status_code == 409
    assert response.json()["errors"][0] == {
        "code": "line_quantity_too_large",
        "detail": "A cart line holds at most 1000 units.",
        "attr": "quantity",
    }
    assert customer_client.get("/cart").json()["items"][0]["quantity"] == 600


def test_unknown_or_inactive_product_is_404(customer_client, product):
    assert add(customer_client, 999_999).status_code == 404
    catalog.deactivate_product(product_id=product.id)
    assert add(customer_client, product.id).status_code == 404


@pytest.mark.parametrize(
    "body, attr",
    [
        ({"productId": 1, "quantity": 0}, "quantity"),
        ({"productId": 1, "quantity": 1001}, "quantity"),
        ({"productId": 1, "quantity": 1.5}, "quantity"),
        ({"productId": 1, "quantity": "two"}, "quantity"),
        ({"productId": "x", "quantity": 1}, "productId"),
        ({"productId": 10**30, "quantity": 1}, "productId"),
        ({"quantity": 1}, "productId"),
        ({"productId": 1, "quantity": 1, "userId": 2}, "userId"),
    ],
)
def test_bad_input_is_400(customer_client, body, attr):
    response = customer_client.post("/cart", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr


def test_patch_sets_quantity_and_zero_removes(customer_client, product):
    other = make_product(price="1.50", stock=100)
    add(customer_client, product.id, 1)
    add(customer_client, other.id, 1)
    response = customer_client.patch(f"/cart/{other.id}", {"quantity": 40}, format="json")
    assert response.status_code == 200
    assert response.json()["subtotal"] == "79.99"
    assert customer_client.patch(f"/cart/{product.id}", {"quantity": 6}, format="json").status_code == 409
    response = customer_client.patch(f"/cart/{product.id}/", {"quantity": 0}, format="json")
    assert [item["productId"] for item in response.json()["items"]] == [other.id]
    assert customer_client.patch(f"/cart/{product.id}", {"quantity": 1}, format="json").status_code == 404


def test_delete_line_and_clear(customer_client, product):
    other = make_product()
    add(customer_client, product.id)
    add(customer_client, other.id)
    response = customer_client.delete(f"/cart/{product.id}")
    assert response.status_code == 200
    assert [item["productId"] for item in response.json()["items"]] == [other.id]
    assert customer_client.delete(f"/cart/{product.id}").status_code == 404
    response = customer_client.delete("/cart")
    assert response.status_code == 200 and response.json()["items"] == []


def test_carts_are_private(customer_client, other_client, anon_client, product):
    add(customer_client, product.id, 2)
    assert other_client.get("/cart").json()["items"] == []
    assert other_client.delete(f"/cart/{product.id}").status_code == 404
    assert other_client.patch(f"/cart/{product.id}", {"quantity": 1}, format="json").status_code == 404
    assert customer_client.get("/cart").json()["totalQuantity"] == 2
    assert anon_client.get("/cart").status_code == 401
    assert add(anon_client, product.id).status_code == 401


def test_withdrawn_product_stays_visible_with_no_stock(customer_client, product):
    add(customer_client, product.id, 1)
    catalog.deactivate_product(product_id=product.id)
    item = customer_client.get("/cart").json()["items"][0]
    assert (item["productId"], item["stock"]) == (product.id, 0)


@pytest.mark.parametrize("lines", [1, 20])
def test_cart_reads_and_writes_cost_a_fixed_number_of_queries(customer_client, count_queries, lines):
    products = [make_product(stock=50) for _ in range(lines)]
    for p in products[:-1]:
        add(customer_client, p.id)
    with count_queries() as post:
        assert add(customer_client, products[-1].id).status_code == 200
    with count_queries() as get:
        assert customer_client.get("/cart").json()["totalQuantity"] == lines
    assert len(post.statements) <= 5, post.statements
    assert len(get.statements) <= 3, get.statements  # the cart with its lines, prices, stock


def test_stock_shown_is_what_is_available_now(customer_client, product):
    add(customer_client, product.id, 1)
    inventory.adjust_stock(product_id=product.id, delta=-3)
    assert customer_client.get("/cart").json()["items"][0]["stock"] == 2


def test_a_cart_is_represented_as_its_serializer_gives_it(customer, customer_client):
    """``represent`` (one serializer instance kept per class) sends what a new CartSerializer would."""
    assert (
        represent(CartSerializer, services.get_cart(user_id=customer.id))
        == CartSerializer(services.get_cart(user_id=customer.id)).data
    )  # an empty cart: no update time
    for price in ("19.99", "0.10"):
        add(customer_client, make_product(price=price, stock=5).id, 2)
        view = services.get_cart(user_id=customer.id)
        assert represent(CartSerializer, view) == CartSerializer(view).data
