"""OWASP API Security Top 10, as it applies here: object-level access, function-level access,
mass assignment, hostile input. Payments' own ids are covered in tests/payments."""

import json

import pytest

from cart import services as cart
from catalog import services as catalog
from orders import services as orders
from tests.conftest import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim_order(customer, product):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    return orders.checkout(user_id=customer.id)


def test_object_level_access_to_another_customers_objects_is_404(other_client, customer, product, victim_order):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    attempts = [
        other_client.get(f"/order/{victim_order.id}"),
        other_client.post(f"/order/{victim_order.id}/cancel"),
        other_client.delete(f"/cart/{product.id}"),
        other_client.patch(f"/cart/{product.id}", {"quantity": 1}, format="json"),
    ]
    assert [r.status_code for r in attempts] == [404, 404, 404, 404]
    assert orders.get_order(order_id=victim_order.id).status == "pending"
    assert cart.get_cart(user_id=customer.id).total_quantity == 1


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/products", {"name": "X", "price": "1.00", "stock": 1}),
        ("patch", "/products/{product}", {"price": "0.01"}),
        ("delete", "/products/{product}", None),
        ("patch", "/inventory/{product}", {"stock": 999}),
        ("patch", "/order/{order}/status", {"status": "shipped"}),
    ],
)
def test_staff_functions_are_403_for_customers(customer_client, product, victim_order, method, path, body):
    url = path.format(product=product.id, order=victim_order.id)
    response = getattr(customer_client, method)(url, body, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/cart", {"productId": "{product}", "quantity": 1, "userId": 999}),
        ("/cart", {"productId": "{product}", "quantity": 1, "unitPrice": "0.01"}),
        ("/order/checkout", {"status": "paid"}),
        ("/order/checkout", {"total": "0.01", "paidAt": "2020-01-01T00:00:00Z"}),
        ("/order/checkout", {"userId": 1}),
    ],
)
def test_mass_assignment_is_rejected(customer, customer_client, product, path, body):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    payload = json.loads(json.dumps(body).replace('"{product}"', str(product.id)))
    response = customer_client.post(path, payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unknown_field"


def test_oversized_body_is_rejected_without_500(customer_client):
    huge = {"productId": 1, "quantity": 1, "padding": "x" * (2 * 1024 * 1024)}
    response = customer_client.post("/cart", huge, format="json")
    assert response.status_code in (400, 413)


@pytest.mark.parametrize("number", [10**30, -(10**30), 1e308, "1e999", "NaN", "Infinity"])
def test_huge_and_odd_numbers_are_400(staff_client, customer_client, number):
    assert staff_client.post("/products", {"name": "N", "price": number, "stock": 1}, format="json").status_code == 400
    assert customer_client.post("/cart", {"productId": 1, "quantity": number}, format="json").status_code == 400


def test_non_object_json_bodies_are_400(customer_client, staff_client):
    for body in ("[]", "42", '"text"', "null", "{"):
        assert customer_client.post("/cart", body, content_type="application/json").status_code == 400
        assert staff_client.post("/products", body, content_type="application/json").status_code == 400


HOSTILE = [
    "Café ☕ 日本語 🚀",
    "Robert'); DROP TABLE catalog_product;--",
    "' OR 1=1 --",
    '<script>alert("x")</script>',
    "%00%27\\x00",
    "名前" * 50,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_are_stored_and_searched_intact(staff_client, anon_client, text):
    created = staff_client.post("/products", {"name": text[:200], "price": "1.00", "stock": 1}, format="json")
    assert created.status_code == 201
    assert created.json()["name"] == text[:200]
    found = anon_client.get("/products", {"search": text[:50]})
    assert found.status_code == 200
    assert [p["name"] for p in found.json()["results"]] == [text[:200]]
    assert anon_client.get("/products", {"search": text, "category": text}).status_code == 200


def test_nul_byte_in_search_is_harmless(anon_client):
    make_product()
    response = anon_client.get("/products", {"search": "a\x00b"})
    assert response.status_code in (200, 400)


def test_inactive_products_do_not_leak_to_customers(customer_client, product):
    catalog.deactivate_product(product_id=product.id)
    assert customer_client.get(f"/products/{product.id}").status_code == 404
    assert product.id not in [p["id"] for p in customer_client.get("/products").json()["results"]]


@pytest.mark.parametrize("path", ["/products", "/order", "/cart", "/auth/login", "/payment"])
def test_options_is_405_never_500(staff_client, path):
    response = staff_client.options(path, {"name": "x"}, format="json")
    assert response.status_code == 405
