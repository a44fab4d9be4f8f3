"""A visitor's cart, kept in their session until they log in or register; then it joins their own cart.

Only ``{product_id: quantity}`` is kept here; prices, stock and names always come from the services.
"""

from django.http import HttpRequest

SESSION_KEY = "guest_cart"
MAX_LINES = 100  # a session is no warehouse


def lines(request: HttpRequest) -> dict[int, int]:
    """The visitor's cart lines; anything unreadable in the session counts as an empty cart."""
    stored = request.session.get(SESSION_KEY)
    if not isinstance(stored, dict):
        return {}
    try:
        return {int(product_id): int(quantity) for product_id, quantity in stored.items() if int(quantity) > 0}
    except (TypeError, ValueError):
        return {}


def save(request: HttpRequest, cart_lines: dict[int, int]) -> None:
    request.session[SESSION_KEY] = {str(product_id): quantity for product_id, quantity in cart_lines.items()}


def take(request: HttpRequest) -> dict[int, int]:
    """The visitor's cart lines, removed from the session (they are being merged into an account's cart)."""
    taken = lines(request)
    request.session.pop(SESSION_KEY, None)
    return taken


def units(request: HttpRequest) -> int:
    return sum(lines(request).values())
