from ecommerce.errors import DomainError, NotFound


class NotInCart(NotFound):
    code = "not_found"
    default_message = "This product is not in the cart."


class QuantityTooLarge(DomainError):
    code = "max_value"
    default_message = "A cart line holds at most 1000 units."
