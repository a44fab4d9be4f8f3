import pytest

from cart import services as cart
from orders import services as orders


@pytest.fixture
def pending_order(customer, product):
    """The customer's pending order for 2 units of ``product`` (19.99 each, 5 in stock)."""
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=2)
    return orders.checkout(user_id=customer.id)


@pytest.fixture
def paid_order(pending_order):
    return orders.mark_order_paid(order_id=pending_order.id)
