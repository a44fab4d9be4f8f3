from ecommerce.errors import Conflict, NotFound


class NotInCart(NotFound):
    code = "not_found"
    default_message = "This product is not in the cart."


class QuantityTooLarge(Conflict):
    """Adding would take a line past 1000 units: the request is valid, the cart it meets refuses it."""

    code = "line_quantity_too_large"
    default_message = "A cart line holds at most 1000 units."
