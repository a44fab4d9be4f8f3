"""Deleting an account keeps the shop's books; the export gives a customer all their data. Over HTTP."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import client_for, make_product, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "Str0ng-Passw0rd!"
HOME = {
    "name": "Carla Customer",
    "line1": "1 Main Street",
    "city": "Springfield",
    "postalCode": "12345",
    "country": "US",
}


@pytest.fixture
def buyer(db):
    """A customer with a saved address, a paid order and a declined attempt before it, and a filled cart."""
    customer = make_user(name="Carla Customer", password=PASSWORD)
    client = client_for(customer)
    mug, tea = make_product(price="12.50", stock=5), make_product(price="3.00", stock=9)
    assert client.post("/auth/me/addresses", HOME, format="json").status_code == 201
    client.post("/cart", {"productId": mug.id, "quantity": 2}, format="json")
    order = client.post("/order/checkout", {}, format="json").json()
    client.post("/payment", {"orderId": order["id"], "token": "tok_chargeDeclined"}, format="json")
    assert client.post("/payment", {"orderId": order["id"], "token": "tok_visa"}, format="json").status_code == 201
    client.post("/cart", {"productId": tea.id, "quantity": 1}, format="json")
    mail.outbox.clear()
    return customer, client, order


def test_the_export_holds_the_profile_addresses_orders_and_payments(buyer, other_client):
    customer, client, order = buyer
    response = client.get("/auth/me/export")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"exportedAt", "profile", "addresses", "orders", "payments"}
    assert data["profile"]["email"] == customer.email and data["profile"]["emailVerified"] is True
    assert [address["postalCode"] for address in data["addresses"]] == ["12345"]
    (exported_order,) = data["orders"]
    assert (exported_order["id"], exported_order["status"], exported_order["total"]) == (order["id"], "paid", "25.00")
    assert exported_order["items"][0]["unitPrice"] == "12.50"
    assert [entry["toStatus"] for entry in exported_order["timeline"]] == ["pending", "paid"]
    assert [(p["status"], p["amount"]) for p in data["payments"]] == [("failed", "25.00"), ("succeeded", "25.00")]
    assert other_client.get("/auth/me/export").json()["orders"] == []  # only the caller's own data
    assert APIClient().get("/auth/me/export").status_code == 401


def test_deleting_needs_the_password(buyer):
    _, client, _ = buyer
    for body, code in [({"password": "Not-The-Passw0rd"}, "wrong_password"), ({}, "required")]:
        response = client.delete("/auth/me", body, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == code
    assert client.get("/auth/me").status_code == 200


def test_deleting_removes_the_personal_data_and_keeps_orders_and_payments(buyer, staff_client):
    customer, client, order = buyer
    session = APIClient().post("/auth/login", {"email": customer.email, "password": PASSWORD}, format="json").json()

    assert client.delete("/auth/me", {"password": PASSWORD}, format="json").status_code == 204

    stored = get_user_model().objects.get(pk=customer.id)
    assert (stored.email, stored.name, stored.is_active) == (f"deleted-{customer.id}@deleted.invalid", "", False)
    assert not stored.has_usable_password() and stored.email_verified_at is None
    assert not stored.addresses.exists()
    (goodbye,) = mail.outbox
    assert goodbye.to == [customer.email] and "Your account is deleted" in goodbye.subject
    # No way back in: the password, the access token and the refresh token are all refused.
    anonymous = APIClient()
    login = anonymous.post("/auth/login", {"email": customer.email, "password": PASSWORD}, format="json")
    assert login.status_code == 401
    assert client.get("/auth/me").status_code == 401
    assert anonymous.post("/auth/refresh", {"refresh": session["refresh"]}, format="json").status_code == 401
    # The books: the order and its payments are still there, under the user id; the cart is gone.
    kept = staff_client.get(f"/order/{order['id']}").json()
    assert (kept["userId"], kept["status"], kept["total"]) == (customer.id, "paid", "25.00")
    payments = staff_client.get(f"/payment?orderId={order['id']}").json()["results"]
    assert sorted(p["status"] for p in payments) == ["failed", "succeeded"]
    from cart import services as cart

    assert cart.get_cart(user_id=customer.id).items == []
    # Shipping it later emails nobody; the email can be used for a new account.
    shipped = staff_client.patch(f"/order/{order['id']}/status", {"status": "shipped"}, format="json")
    assert shipped.status_code == 200 and len(mail.outbox) == 1
    again = anonymous.post(
        "/auth/register", {"name": "Carla", "email": customer.email, "password": PASSWORD}, format="json"
    )
    assert again.status_code == 202 and get_user_model().objects.filter(email=customer.email).exists()


def test_deleting_needs_a_signed_in_user():
    assert APIClient().delete("/auth/me", {"password": PASSWORD}, format="json").status_code == 401
