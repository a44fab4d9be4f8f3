from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.db.models import Sum
from django.utils import timezone

from ecommerce.db import atomic
from inventory import services
from inventory.errors import InsufficientStock, StockItemNotFound
from inventory.models import StockItem, StockMovement
from inventory.services import StockLine

pytestmark = pytest.mark.django_db
LATER = timezone.now() + timedelta(minutes=30)


def assert_ledger_matches_levels():
    """The sum of all movements per product equals that product's levels."""
    for item in StockItem.objects.all():
        sums = StockMovement.objects.filter(product_id=item.product_id).aggregate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
        assert (sums["on_hand"], sums["reserved"] or 0) == (item.on_hand, item.reserved), item


def test_create_stock_item_writes_initial_movement():
    level = services.create_stock_item(product_id=1, on_hand=7, actor_id=42)
    assert (level.on_hand, level.reserved, level.available) == (7, 0, 7)
    movement = StockMovement.objects.get()
    assert (movement.reason, movement.on_hand_delta, movement.actor_id) == ("initial", 7, 42)


def test_create_stock_item_refuses_negative_stock():
    with pytest.raises(InsufficientStock):
        services.create_stock_item(product_id=1, on_hand=-1)
    assert not StockItem.objects.exists()


def test_set_available_stock_accounts_for_reserved_units():
    services.create_stock_item(product_id=1, on_hand=10)
    services.reserve_stock(order_id=5, lines=[StockLine(1, 4)], expires_at=LATER)
    level = services.set_available_stock(product_id=1, available=2, actor_id=9, note="count")
    assert (level.on_hand, level.reserved, level.available) == (6, 4, 2)
    movement = StockMovement.objects.filter(reason="adjustment").get()
    assert (movement.on_hand_delta, movement.actor_id, movement.note) == (-4, 9, "count")
    assert_ledger_matches_levels()


def test_set_available_stock_errors():
    with pytest.raises(StockItemNotFound):
        services.set_available_stock(product_id=404, available=1)
    services.create_stock_item(product_id=1, on_hand=1)
    with pytest.raises(InsufficientStock):
        services.set_available_stock(product_id=1, available=-1)


def test_adjust_stock_relative_and_never_below_available_zero():
    services.create_stock_item(product_id=1, on_hand=3)
    services.reserve_stock(order_id=1, lines=[StockLine(1, 2)], expires_at=LATER)
    assert services.adjust_stock(product_id=1, delta=5).on_hand == 8
    assert StockMovement.objects.filter(reason="restock", on_hand_delta=5).exists()
    with pytest.raises(InsufficientStock):
        services.adjust_stock(product_id=1, delta=-7)  # only 6 available
    level = services.adjust_stock(product_id=1, delta=-6)
    assert (level.on_hand, level.reserved, level.available) == (2, 2, 0)
    with pytest.raises(StockItemNotFound):
        services.adjust_stock(product_id=2, delta=1)
    assert_ledger_matches_levels()


def test_get_stock_levels_is_one_query(django_assert_num_queries):
    for pid in range(1, 11):
        services.create_stock_item(product_id=pid, on_hand=pid)
    with django_assert_num_queries(1):
        levels = services.get_stock_levels(product_ids=[*range(1, 11), 999])
    assert sorted(levels) == list(range(1, 11))
    assert levels[3].available == 3


def test_in_stock_product_ids():
    services.create_stock_item(product_id=1, on_hand=1)
    services.create_stock_item(product_id=2, on_hand=0)
    services.create_stock_item(product_id=3, on_hand=1)
    services.reserve_stock(order_id=1, lines=[StockLine(3, 1)], expires_at=LATER)
    assert services.get_in_stock_product_ids() == {1}
    assert services.get_in_stock_product_ids(product_ids=[2, 3]) == set()


def test_reserve_is_all_or_nothing_and_names_every_short_product():
    services.create_stock_item(product_id=1, on_hand=5)
    services.create_stock_item(product_id=2, on_hand=1)
    services.create_stock_item(product_id=3, on_hand=0)
    with pytest.raises(InsufficientStock) as error:
        services.reserve_stock(
            order_id=1, lines=[StockLine(1, 2), StockLine(2, 2), StockLine(3, 1), StockLine(4, 1)], expires_at=LATER
        )
    assert error.value.extra["product_ids"] == [2, 3, 4]
    assert services.get_stock_level(product_id=1).reserved == 0
    assert not StockMovement.objects.exclude(reason="initial").exists()


def test_reserve_merges_lines_of_the_same_product_and_uses_fixed_queries(django_assert_num_queries):
    for pid in range(1, 6):
        services.create_stock_item(product_id=pid, on_hand=10)
    lines = [StockLine(pid, 2) for pid in range(1, 6)] + [StockLine(1, 3)]
    # savepoint pair + lock + "holds it nothing yet?" + update + 2 bulk inserts, whatever the line count
    with django_assert_num_queries(7):
        services.reserve_stock(order_id=9, lines=lines, expires_at=LATER)
    assert services.get_stock_level(product_id=1).reserved == 5
    assert services.get_stock_level(product_id=5).available == 8
    assert_ledger_matches_levels()


def test_sale_release_and_return_cycle():
    services.create_stock_item(product_id=1, on_hand=10)
    services.reserve_stock(order_id=1, lines=[StockLine(1, 3)], expires_at=LATER)
    services.reserve_stock(order_id=2, lines=[StockLine(1, 2)], expires_at=LATER)
    assert services.commit_reservation(order_id=1) is True
    assert services.commit_reservation(order_id=1) is False  # nothing held any more
    level = services.get_stock_level(product_id=1)
    assert (level.on_hand, level.reserved) == (7, 2)
    assert services.release_reservation(order_id=2) is True
    assert services.release_reservation(order_id=2) is False
    assert services.commit_reservation(order_id=2) is False  # released stock cannot be sold
    assert services.return_sold_stock(order_id=1, actor_id=3) is True
    assert services.return_sold_stock(order_id=1) is False
    level = services.get_stock_level(product_id=1)
    assert (level.on_hand, level.reserved) == (10, 0)
    reasons = list(StockMovement.objects.order_by("id").values_list("reason", flat=True))
    assert reasons == ["initial", "reservation", "reservation", "sale", "release", "return"]
    assert_ledger_matches_levels()


def test_a_sale_of_many_lines_uses_fixed_queries(django_assert_num_queries):
    for pid in range(1, 6):
        services.create_stock_item(product_id=pid, on_hand=10)
    services.reserve_stock(order_id=9, lines=[StockLine(pid, pid) for pid in range(1, 6)], expires_at=LATER)
    # inside a caller's transaction, as the order.paid handler runs it: no savepoint; the reservations are moved and
    # read by one statement, then the levels and the ledger
    with atomic("inventory"), django_assert_num_queries(3):
        assert services.commit_reservation(order_id=9) is True
    levels = [services.get_stock_level(product_id=pid) for pid in range(1, 6)]
    assert [(level.on_hand, level.reserved) for level in levels] == [(10 - pid, 0) for pid in range(1, 6)]
    sales = StockMovement.objects.filter(reason="sale").order_by("id")
    assert list(sales.values_list("product_id", "on_hand_delta")) == [(pid, -pid) for pid in range(1, 6)]
    assert_ledger_matches_levels()


def test_an_order_can_reserve_again_after_its_release():
    services.create_stock_item(product_id=1, on_hand=2)
    services.reserve_stock(order_id=1, lines=[StockLine(1, 2)], expires_at=LATER)
    services.release_reservation(order_id=1)
    services.reserve_stock(order_id=1, lines=[StockLine(1, 2)], expires_at=LATER)
    assert services.commit_reservation(order_id=1) is True
    assert services.get_stock_level(product_id=1).on_hand == 0
    assert_ledger_matches_levels()


def test_database_refuses_negative_or_over_reserved_stock():
    services.create_stock_item(product_id=1, on_hand=1)
    for change in ({"on_hand": -1}, {"reserved": 2}, {"reserved": -1}):
        with pytest.raises(IntegrityError), atomic("inventory"):
            StockItem.objects.filter(product_id=1).update(**change)
