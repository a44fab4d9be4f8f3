"""What every shop page shows: the number of units in the cart (the visitor's or the customer's)."""

from cart import services as cart
from storefront import guest_cart


def cart_units(request) -> dict:
    """``cart_units`` for the header of the shop's pages (one query for a customer, none for a visitor)."""
    if not request.path.startswith("/shop/"):
        return {}
    if request.user.is_authenticated:
        return {"cart_units": cart.count_units(user_id=request.user.id)}
    return {"cart_units": guest_cart.units(request)}
