from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cart import services as cart
from inventory import services as inventory
from orders import services as orders
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def level(product):
    return inventory.get_stock_level(product_id=product.id)


def test_paying_turns_the_reservation_into_a_sale(pending_order, product):
    paid = orders.mark_order_paid(order_id=pending_order.id)
    assert paid.status == "paid" and paid.paid_at is not None
    assert (level(product).on_hand, level(product).reserved) == (3, 0)
    sales = [m for m in inventory.list_stock_movements(order_id=pending_order.id) if m.reason == "sale"]
    assert [m.on_hand_delta for m in sales] == [-2]
    assert orders.mark_order_paid(order_id=pending_order.id).paid_at == paid.paid_at  # idempotent
    assert level(product).on_hand == 3


def test_payment_after_expiry_reserves_the_stock_again(pending_order, product):
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        assert orders.expire_due_orders() == 1
        assert level(product).reserved == 0
        paid = orders.mark_order_paid(order_id=pending_order.id)
    assert paid.status == "paid"
    assert (level(product).on_hand, level(product).reserved) == (3, 0)


def test_payment_after_expiry_when_the_stock_is_gone_is_refused(pending_order, product):
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        orders.expire_due_orders()
        buyer = make_user()
        cart.add_to_cart(user_id=buyer.id, product_id=product.id, quantity=4)
        orders.checkout(user_id=buyer.id)
        with pytest.raises(orders.OrderNotPayable):
            orders.mark_order_paid(order_id=pending_order.id)
    assert orders.get_order(order_id=pending_order.id).status == "cancelled"
    assert level(product).reserved == 4


def test_an_order_cancelled_by_a_person_cannot_be_paid(pending_order, customer):
    orders.cancel_order(order_id=pending_order.id, user_id=customer.id)
    with pytest.raises(orders.OrderNotPayable):
        orders.mark_order_paid(order_id=pending_order.id)


def test_get_order_reads_the_order_with_its_lines_then_its_timeline(
    paid_order, customer, other_customer, django_assert_num_queries
):
    with django_assert_num_queries(2):
        order = orders.get_order(order_id=paid_order.id, user_id=customer.id)
    assert order == paid_order
    assert [(item.quantity, item.line_total) for item in order.items] == [(2, paid_order.total)]
    assert [entry.to_status for entry in order.timeline] == ["pending", "paid"]
    with pytest.raises(orders.OrderNotFound):
        orders.get_order(order_id=paid_order.id, user_id=other_customer.id)
    with pytest.raises(orders.OrderNotFound):
        orders.get_order(order_id=paid_order.id + 1)


def test_get_order_cancels_an_order_past_its_expiry(pending_order, customer):
    with time_machine.travel(pending_order.expires_at + timedelta(minutes=1), tick=False):
        order = orders.get_order(order_id=pending_order.id, user_id=customer.id)
    assert order.status == "cancelled"
    assert [entry.to_status for entry in order.timeline] == ["pending", "cancelled"]
    assert [item.quantity for item in order.items] == [2]


def test_get_payable_order_rules(pending_order, customer, other_customer):
    assert orders.get_payable_order(order_id=pending_order.id, user_id=customer.id).id == pending_order.id
    with pytest.raises(orders.OrderNotFound):
        orders.get_payable_order(order_id=pending_order.id, user_id=other_customer.id)
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False),
        pytest.raises(orders.OrderNotPayable),
    ):
        orders.get_payable_order(order_id=pending_order.id, user_id=customer.id)


def test_get_payable_order_of_a_paid_order_is_already_paid(paid_order, customer):
    with pytest.raises(orders.AlreadyPaid):
        orders.get_payable_order(order_id=paid_order.id, user_id=customer.id)


def test_refund_returns_sold_stock_once(paid_order, product):
    refunded = orders.mark_order_refunded(order_id=paid_order.id, actor_id=7)
    assert refunded.status == "refunded"
    assert level(product).on_hand == 5
    assert orders.mark_order_refunded(order_id=paid_order.id).status == "refunded"
    assert [m.reason for m in inventory.list_stock_movements(order_id=paid_order.id)].count("return") == 1


def test_refund_of_an_unpaid_order_is_an_invalid_transition(pending_order):
    with pytest.raises(orders.InvalidTransition):
        orders.mark_order_refunded(order_id=pending_order.id)


def test_an_order_says_whether_its_owner_may_pay_or_cancel_it(pending_order, paid_order):
    assert (pending_order.can_pay, pending_order.can_cancel) == (True, True)
    assert (paid_order.can_pay, paid_order.can_cancel) == (False, False)
    with time_machine.travel(pending_order.expires_at + timedelta(seconds=1)):
        assert (pending_order.can_pay, pending_order.can_cancel) == (False, True)  # as read before it expired
        assert orders.get_order(order_id=pending_order.id).can_pay is False
