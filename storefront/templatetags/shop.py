"""Template helpers of the shop: money and availability as shoppers read them."""

from decimal import Decimal

from django import template
from django.conf import settings

register = template.Library()

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


@register.filter
def money(amount: Decimal, currency: str = "") -> str:
    """``19.99`` in the store currency, e.g. ``$19.99`` or ``19.99 CHF``."""
    code = (currency or settings.STORE_CURRENCY).lower()
    value = f"{Decimal(amount):,.2f}"
    symbol = SYMBOLS.get(code)
    return f"{symbol}{value}" if symbol else f"{value} {code.upper()}"


@register.filter
def availability(stock: int) -> str:
    """How many units a shopper can buy now, in words."""
    if stock <= 0:
        return "Out of stock"
    if stock <= 5:
        return f"Only {stock} left"
    return "In stock"
