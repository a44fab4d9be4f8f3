"""The order page's history, and times shown in the store's time zone (STORE_TIME_ZONE) with the zone named."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from orders import services as orders
from tests.conftest import make_product, make_user
from tests.storefront.test_pages import add, html, pay, place_order, shopper_id

pytestmark = pytest.mark.django_db


def history(page: str) -> list[str]:
    section = page[page.index('id="order-timeline"') :]
    section = section[: section.index("</ol>")]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip() for item in section.split("<li>")[1:]]


def test_the_order_page_shows_every_status_change_with_who_and_why(shop, settings):
    settings.STORE_TIME_ZONE = "Europe/Paris"
    staff = make_user(staff=True)
    with time_machine.travel(datetime(2026, 1, 15, 9, 30, tzinfo=UTC), tick=False):
        add(shop, make_product(price="10.00"))
        order_id = place_order(shop)
        pay(shop, order_id, "tok_visa")
        orders.change_order_status(order_id=order_id, status="shipped", actor_id=staff.id, reason="Parcel 42")
    page = html(shop.get(f"/shop/orders/{order_id}/"))
    assert history(page) == [
        "15 Jan 2026, 10:30 CET Placed, by you",
        "15 Jan 2026, 10:30 CET Paid, by the payment provider",
        "15 Jan 2026, 10:30 CET Shipped, by our staff “Parcel 42”",
    ]
    assert '<time datetime="2026-01-15T09:30:00+00:00">15 Jan 2026, 10:30 CET</time>' in page  # Placed


def test_times_follow_the_store_time_zone_and_its_daylight_saving(shop, settings):
    settings.STORE_TIME_ZONE = "America/New_York"
    with time_machine.travel(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), tick=False):
        add(shop, make_product())
        order_id = place_order(shop)
        orders.cancel_order(order_id=order_id, user_id=shopper_id(shop), reason="Too slow")
    page = html(shop.get(f"/shop/orders/{order_id}/"))
    assert history(page)[-1] == "1 Jul 2026, 08:00 EDT Cancelled, by you “Too slow”"
    assert "1 Jul 2026, 08:00 EDT" in html(shop.get("/shop/orders/"))


def test_the_expiry_is_told_as_automatic(shop, settings):
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        add(shop, make_product())
        order_id = place_order(shop)
    with time_machine.travel(datetime(2026, 3, 1, 13, 0, tzinfo=UTC), tick=False):
        orders.expire_due_orders()
    page = html(shop.get(f"/shop/orders/{order_id}/"))
    assert history(page)[-1] == (
        "1 Mar 2026, 13:00 UTC Cancelled automatically, as its reservation expired “Not paid before its "
        "reservation expired.”"
    )


def test_the_api_keeps_utc_whatever_the_store_time_zone(customer_client, customer, settings):
    settings.STORE_TIME_ZONE = "Asia/Tokyo"
    from cart import services as cart

    cart.add_to_cart(user_id=customer.id, product_id=make_product().id, quantity=1)
    order = customer_client.post("/order/checkout", {}, format="json").json()
    assert order["createdAt"].endswith("Z") or order["createdAt"].endswith("+00:00")
    assert order["timeline"][0]["at"] == order["createdAt"]
