from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.services import InsufficientStock, StockLine
from tests.concurrency.conftest import race
from tests.inventory.test_services import assert_ledger_matches_levels

pytestmark = pytest.mark.django_db(transaction=True)
LATER = timezone.now() + timedelta(minutes=30)


def test_twenty_buyers_race_for_five_units():
    services.create_stock_item(product_id=1, on_hand=5)

    def buy(i):
        services.reserve_stock(order_id=1000 + i, lines=[StockLine(1, 1)], expires_at=LATER)
        return "ok"

    results = race(20, buy)
    assert results.count("ok") == 5
    assert sum(isinstance(r, InsufficientStock) for r in results) == 15
    level = services.get_stock_level(product_id=1)
    assert (level.on_hand, level.reserved, level.available) == (5, 5, 0)
    assert_ledger_matches_levels()


def test_multi_line_orders_in_opposite_orders_do_not_deadlock_or_oversell():
    services.create_stock_item(product_id=1, on_hand=6)
    services.create_stock_item(product_id=2, on_hand=6)

    def buy(i):
        lines = [StockLine(1, 1), StockLine(2, 1)] if i % 2 else [StockLine(2, 1), StockLine(1, 1)]
        services.reserve_stock(order_id=2000 + i, lines=lines, expires_at=LATER)
        return "ok"

    results = race(12, buy)
    assert results.count("ok") == 6
    assert all(r == "ok" or isinstance(r, InsufficientStock) for r in results), results
    assert services.get_in_stock_product_ids() == set()
    assert_ledger_matches_levels()


def test_concurrent_restocks_and_reservations_lose_no_update():
    services.create_stock_item(product_id=1, on_hand=10)

    def act(i):
        if i % 2:
            services.adjust_stock(product_id=1, delta=3)
        else:
            services.reserve_stock(order_id=3000 + i, lines=[StockLine(1, 1)], expires_at=LATER)
        return "ok"

    results = race(20, act)
    assert results == ["ok"] * 20
    level = services.get_stock_level(product_id=1)
    assert (level.on_hand, level.reserved) == (10 + 10 * 3, 10)
    assert_ledger_matches_levels()
