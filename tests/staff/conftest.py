import pytest

from cart import services as cart
from orders import services as orders
from payments import services as payments


@pytest.fixture
def pending(customer, product):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    return orders.checkout(user_id=customer.id)


@pytest.fixture
def paid(customer, product):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    order = orders.checkout(user_id=customer.id)
    payments.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")
    return orders.get_order(order_id=order.id)
