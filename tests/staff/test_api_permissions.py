"""Staff roles in the API: every staff write needs the Django model permission the admin checks too.

"Catalog managers" (products, stock) and "Order managers" (orders, refunds) are groups made by a data
migration; a superuser has every permission. A staff user lacking one gets 403 ``missing_permission``.
"""

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from accounts import services as accounts
from inventory import services as inventory
from orders import services as orders
from tests.conftest import AllQueries, client_for, make_user

pytestmark = pytest.mark.django_db


# (request, the role that may make it). Each runs once with a role that has the permission and once
# with one that lacks it.
def _create_product(product, pending, paid):
    return "post", "/products", {"name": "Lamp", "price": "12.00", "stock": 3}


def _change_price(product, pending, paid):
    return "patch", f"/products/{product.id}", {"price": "1.00"}


def _set_stock_on_product(product, pending, paid):
    return "patch", f"/products/{product.id}", {"stock": 40}


def _deactivate_product(product, pending, paid):
    return "delete", f"/products/{product.id}", None


def _set_stock(product, pending, paid):
    return "patch", f"/inventory/{product.id}", {"stock": 40}


def _adjust_stock(product, pending, paid):
    return "patch", f"/inventory/{product.id}", {"adjustBy": 5, "reason": "Delivery"}


def _ship(product, pending, paid):
    return "patch", f"/order/{paid.id}/status", {"status": "shipped"}


def _refund_by_status(product, pending, paid):
    return "patch", f"/order/{paid.id}/status", {"status": "refunded"}


def _cancel_pending(product, pending, paid):
    return "patch", f"/order/{pending.id}/status", {"status": "cancelled"}


CATALOG_WRITES = [_create_product, _change_price, _set_stock_on_product, _deactivate_product, _set_stock, _adjust_stock]
ORDER_WRITES = [_ship, _refund_by_status, _cancel_pending]
SUCCESS = {"post": 201, "patch": 200, "delete": 204}


def send(client, method, path, body):
    return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)


@pytest.mark.parametrize("write", CATALOG_WRITES + ORDER_WRITES, ids=lambda write: write.__name__.strip("_"))
def test_each_staff_write_needs_its_role(write, catalog_manager, order_manager, product, pending, paid):
    allowed, refused = (catalog_manager, order_manager) if write in CATALOG_WRITES else (order_manager, catalog_manager)
    method, path, body = write(product, pending, paid)

    response = send(client_for(refused), method, path, body)
    assert response.status_code == 403, response.json()
    assert response.json()["errors"][0]["code"] == "missing_permission"
    assert product.name == "Blue Mug" and orders.get_order(order_id=paid.id).status == "paid"  # nothing changed

    assert send(client_for(allowed), method, path, body).status_code == SUCCESS[method]


@pytest.mark.parametrize("write", CATALOG_WRITES + ORDER_WRITES, ids=lambda write: write.__name__.strip("_"))
def test_staff_without_any_role_may_write_nothing(write, product, pending, paid):
    bare_staff = make_user(staff=True)
    get_user_model().objects.filter(pk=bare_staff.id).update(is_superuser=False)
    method, path, body = write(product, pending, paid)
    response = send(client_for(bare_staff), method, path, body)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "missing_permission"


def test_a_customer_still_gets_permission_denied(customer_client, product):
    response = customer_client.patch(f"/products/{product.id}", {"price": "1.00"}, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


def test_the_refusal_names_the_missing_permission(order_manager, product):
    response = client_for(order_manager).patch(f"/products/{product.id}", {"price": "1.00"}, format="json")
    assert "catalog.change_product" in response.json()["errors"][0]["detail"]


def test_changing_a_price_does_not_give_the_right_to_change_stock(product):
    pricing_only = make_user(groups=("Catalog managers",))
    user = get_user_model().objects.get(pk=pricing_only.id)
    user.groups.clear()
    user.user_permissions.set(Permission.objects.filter(codename="change_product"))
    client = client_for(pricing_only)
    assert client.patch(f"/products/{product.id}", {"price": "2.00"}, format="json").status_code == 200
    response = client.patch(f"/products/{product.id}", {"price": "3.00", "stock": 99}, format="json")
    assert response.status_code == 403
    assert "inventory.change_stockitem" in response.json()["errors"][0]["detail"]
    assert inventory.get_stock_level(product_id=product.id).available == 5


def test_order_manager_refunds_a_paid_order_by_cancelling_it(order_manager, paid, product):
    response = client_for(order_manager).post(f"/order/{paid.id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "refunded"


def test_staff_without_the_order_role_cancel_only_their_own_orders(catalog_manager, pending):
    response = client_for(catalog_manager).post(f"/order/{pending.id}/cancel")
    assert response.status_code == 404  # like any customer: someone else's order is not found
    assert orders.get_order(order_id=pending.id).status == "pending"


def test_only_the_order_role_reads_everyones_orders_and_payments(catalog_manager, order_manager, paid):
    assert client_for(catalog_manager).get(f"/order/{paid.id}").status_code == 404
    assert client_for(catalog_manager).get("/order").json()["count"] == 0
    assert client_for(catalog_manager).get("/payment", {"orderId": paid.id}).status_code == 404
    assert client_for(order_manager).get(f"/order/{paid.id}").status_code == 200
    assert client_for(order_manager).get("/payment", {"orderId": paid.id}).json()["count"] == 1


def test_the_access_token_carries_the_roles_permissions(catalog_manager, order_manager, staff, customer):
    def claims(user):
        return jwt.decode(accounts.issue_tokens(user_id=user.id).access, options={"verify_signature": False})

    assert "catalog.change_product" in claims(catalog_manager)["perms"]
    assert "inventory.change_stockitem" in claims(catalog_manager)["perms"]
    assert "orders.change_order" not in claims(catalog_manager)["perms"]
    assert "orders.change_order" in claims(order_manager)["perms"]
    assert claims(staff)["is_superuser"] is True and "perms" not in claims(staff)
    assert "perms" not in claims(customer) and "is_superuser" not in claims(customer)


def test_a_staff_write_reads_no_user_or_permission_table(catalog_manager, product):
    client = client_for(catalog_manager)
    with AllQueries() as queries:
        assert client.patch(f"/inventory/{product.id}", {"adjustBy": 1}, format="json").status_code == 200
    touched = " ".join(query["sql"] for query in queries.captured_queries)
    assert "accounts_user" not in touched and "auth_" not in touched


def test_a_new_role_reaches_the_api_with_the_next_refresh(catalog_manager, product):
    tokens = accounts.issue_tokens(user_id=catalog_manager.id)
    get_user_model().objects.get(pk=catalog_manager.id).groups.clear()
    refreshed = accounts.rotate_refresh_token(refresh=tokens.refresh)
    client = client_for(catalog_manager)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.access}")
    assert client.patch(f"/products/{product.id}", {"price": "1.00"}, format="json").status_code == 403


def test_the_schema_documents_missing_permission(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    for path, method in [
        ("/products", "post"),
        ("/products/{id}", "patch"),
        ("/products/{id}", "delete"),
        ("/inventory/{productId}", "patch"),
        ("/order/{id}/status", "patch"),
    ]:
        operation = schema["paths"][path][method]
        assert "missing_permission" in operation["responses"]["403"]["description"], (path, method)


def test_stock_changed_by_a_catalog_manager_is_in_the_ledger_under_their_id(catalog_manager, product):
    body = {"adjustBy": 7, "reason": "Delivery"}
    assert client_for(catalog_manager).patch(f"/inventory/{product.id}", body, format="json").status_code == 200
    movement = inventory.list_stock_movements(product_id=product.id, limit=1)[0]
    assert (movement.on_hand_delta, movement.actor_id, movement.note) == (7, catalog_manager.id, "Delivery")
