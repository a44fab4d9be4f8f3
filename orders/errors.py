from ecommerce.errors import Conflict, NotFound


class OrderNotFound(NotFound):
    default_message = "No such order."


class CartEmpty(Conflict):
    code = "cart_empty"
    default_message = "The cart is empty."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = "The order cannot move to this status from its current one."


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    default_message = "This order can no longer be paid."


class AlreadyPaid(Conflict):
    code = "already_paid"
    default_message = "This order is paid already."
