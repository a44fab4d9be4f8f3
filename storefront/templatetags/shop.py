"""Template helpers of the shop: money, availability and times as shoppers read them."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.conf import settings

from ecommerce.timezones import format_store_time

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
def picture_of(pictures: dict, product_id: int):
    """The first picture of a product in ``pictures`` (product id -> its pictures), or None if it has none."""
    found = pictures.get(product_id)
    return found[0] if found else None


@register.filter
def availability(stock: int) -> str:
    """How many units a shopper can buy now, in words."""
    if stock <= 0:
        return "Out of stock"
    if stock <= 5:
        return f"Only {stock} left"
    return "In stock"


@register.filter
def local_time(moment: datetime) -> str:
    """A time in the store's time zone, with the zone named (``STORE_TIME_ZONE``)."""
    return format_store_time(moment)


TIMELINE_ACTORS = {
    "customer": "by you",
    "staff": "by our staff",
    "payment_provider": "by the payment provider",
    "expiry_job": "automatically, as its reservation expired",
}


@register.filter
def timeline_event(entry) -> str:
    """A timeline entry as the customer reads it: ``Paid, by the payment provider``."""
    what = "Placed" if entry.from_status is None else entry.to_status.capitalize()
    by = TIMELINE_ACTORS.get(entry.actor, "")
    if entry.actor == "expiry_job":
        return f"{what} {by}"
    return f"{what}, {by}" if by else what
