"""Card testing through the shop's payment page meets the API's limits (finding 8 of issue 17): the per-order
decline limit (in the payments service) and the per-user payment rate limit (the API's counters)."""

import pytest

from orders import services as orders
from tests.conftest import make_product
from tests.storefront.test_pages import add, html, pay, place_order

pytestmark = pytest.mark.django_db


def test_card_testing_through_the_shop_meets_the_decline_limit_and_the_rate_limit(shop):
    mug = make_product(name="Blue Mug", stock=10)
    placed = []
    for _ in range(3):
        add(shop, mug)
        placed.append(place_order(shop))
    first, second, third = placed

    for _ in range(5):
        pay(shop, first, "tok_chargeDeclined")
    exhausted = pay(shop, first, "tok_visa")
    assert "This order was declined too many times" in html(exhausted)
    for _ in range(4):  # ten attempts in the minute
        pay(shop, second, "tok_chargeDeclined")

    throttled = pay(shop, third, "tok_visa")

    assert "Too many payment attempts. Please try again in" in html(throttled)
    assert [orders.get_order(order_id=order_id).status for order_id in placed] == ["pending"] * 3
