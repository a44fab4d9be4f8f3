from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from inventory import services
from inventory.models import StockMovement
from inventory.services import StockLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked():
    services.create_stock_item(product_id=11, on_hand=10)
    services.reserve_stock(order_id=1, lines=[StockLine(11, 3)], expires_at=timezone.now() + timedelta(minutes=5))
    return 11


def test_customer_sees_available_only(customer_client, stocked):
    response = customer_client.get(f"/inventory/{stocked}")
    assert response.status_code == 200
    body = response.json()
    assert body["productId"] == stocked and body["stock"] == 7
    assert "onHand" not in body and "reserved" not in body
    assert body["updatedAt"]


def test_staff_sees_on_hand_and_reserved(staff_client, stocked, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        body = staff_client.get(f"/inventory/{stocked}/").json()
    assert (body["stock"], body["onHand"], body["reserved"]) == (7, 10, 3)


def test_anonymous_is_401_and_unknown_product_404(anon_client, customer_client):
    assert anon_client.get("/inventory/11").status_code == 401
    assert customer_client.get("/inventory/999").status_code == 404


def test_staff_sets_available_stock(staff_client, staff, stocked):
    response = staff_client.patch(f"/inventory/{stocked}", {"stock": 20}, format="json")
    assert response.status_code == 200
    assert (response.json()["stock"], response.json()["onHand"]) == (20, 23)
    movement = StockMovement.objects.filter(reason="adjustment").get()
    assert (movement.on_hand_delta, movement.actor_id) == (13, staff.id)


def test_staff_adjusts_by_delta_with_reason(staff_client, stocked):
    response = staff_client.patch(f"/inventory/{stocked}", {"adjustBy": 5, "reason": "delivery 42"}, format="json")
    assert response.status_code == 200
    assert response.json()["onHand"] == 15
    assert StockMovement.objects.filter(reason="restock", note="delivery 42", on_hand_delta=5).exists()
    response = staff_client.patch(f"/inventory/{stocked}", {"adjustBy": -13}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "insufficient_stock"
    assert services.get_stock_level(product_id=stocked).on_hand == 15


@pytest.mark.parametrize(
    "body, attr",
    [
        ({"stock": -1}, "stock"),
        ({"stock": 1.5}, "stock"),
        ({"stock": "many"}, "stock"),
        ({"stock": 10**12}, "stock"),
        ({"adjustBy": 10**12}, "adjustBy"),
        ({"stock": 1, "adjustBy": 1}, "nonFieldErrors"),
        ({}, "nonFieldErrors"),
        ({"stock": 1, "onHand": 5}, "onHand"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(staff_client, stocked, body, attr):
    response = staff_client.patch(f"/inventory/{stocked}", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
    assert services.get_stock_level(product_id=stocked).on_hand == 10


def test_only_staff_may_change_stock(customer_client, anon_client, stocked):
    assert customer_client.patch(f"/inventory/{stocked}", {"stock": 1}, format="json").status_code == 403
    assert anon_client.patch(f"/inventory/{stocked}", {"stock": 1}, format="json").status_code == 401
    assert services.get_stock_level(product_id=stocked).on_hand == 10


def test_patch_unknown_product_is_404(staff_client):
    assert staff_client.patch("/inventory/999", {"stock": 1}, format="json").status_code == 404
    assert staff_client.patch("/inventory/999", {"adjustBy": 1}, format="json").status_code == 404


def test_updated_at_moves_on_every_stock_change(staff_client, stocked):
    """Reservations, sales, releases, returns and relative adjustments all move ``updatedAt``."""
    changes = [
        lambda: staff_client.patch(f"/inventory/{stocked}", {"adjustBy": 2}, format="json"),
        lambda: staff_client.patch(f"/inventory/{stocked}", {"stock": 5}, format="json"),
        lambda: services.reserve_stock(order_id=2, lines=[StockLine(stocked, 1)], expires_at=timezone.now()),
        lambda: services.commit_reservation(order_id=2),
        lambda: services.return_sold_stock(order_id=2),
        lambda: services.release_reservation(order_id=1),
    ]
    seen = [staff_client.get(f"/inventory/{stocked}").json()["updatedAt"]]
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False) as clock:
        for change in changes:
            change()
            seen.append(staff_client.get(f"/inventory/{stocked}").json()["updatedAt"])
            clock.shift(timedelta(minutes=1))
    assert len(set(seen)) == len(seen), seen


def test_staff_list_a_products_movements_newest_first_paginated(staff_client, staff, stocked):
    staff_client.patch(f"/inventory/{stocked}", {"adjustBy": 4, "reason": "delivery 42"}, format="json")

    response = staff_client.get(f"/inventory/{stocked}/movements?pageSize=2")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["next"] and body["previous"] is None
    newest, reservation = body["results"]
    assert newest == {
        "id": newest["id"],
        "productId": stocked,
        "onHandDelta": 4,
        "reservedDelta": 0,
        "reason": "restock",
        "orderId": None,
        "actorId": staff.id,
        "note": "delivery 42",
        "createdAt": newest["createdAt"],
    }
    assert (reservation["reason"], reservation["reservedDelta"], reservation["orderId"]) == ("reservation", 3, 1)
    last = staff_client.get(f"/inventory/{stocked}/movements/?pageSize=2&page=2").json()["results"]
    assert [(m["reason"], m["onHandDelta"]) for m in last] == [("initial", 10)]


def test_only_staff_list_movements_of_a_known_product(staff_client, customer_client, anon_client, stocked):
    assert anon_client.get(f"/inventory/{stocked}/movements").status_code == 401
    assert customer_client.get(f"/inventory/{stocked}/movements").status_code == 403
    missing = staff_client.get("/inventory/999/movements")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "not_found"
