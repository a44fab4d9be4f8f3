"""Money helpers: Decimal amounts in the store currency, minor units at provider boundaries."""

import decimal
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.utils.functional import cached_property

from ecommerce.errors import Conflict

# ISO 4217 currencies without a minor unit, as Stripe lists them.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)

CENT = Decimal("0.01")


def quantize(amount: Decimal) -> Decimal:
    """Round an amount to 2 decimal places (half up), as stored and shown."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Convert a Decimal amount to the integer minor units a payment provider expects."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return int(Decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor_units(amount: int, currency: str) -> Decimal:
    """Convert integer minor units back to a Decimal amount."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return quantize(Decimal(amount))
    return quantize(Decimal(amount) / 100)


# The largest amount a money column (12 digits, 2 of them decimal places) holds: no line total, order
# total or payment may exceed it.
MAX_AMOUNT = Decimal("9999999999.99")


class AmountTooLarge(Conflict):
    code = "amount_too_large"
    default_message = f"A line or order total may be at most {MAX_AMOUNT}."


class MoneyField(models.DecimalField):
    """A DecimalField whose stored values are read back whatever their size.

    SQLite does not enforce ``max_digits``, and Django's SQLite converter fails on a wider value, so a
    row written before the money limits existed would make every page showing it fail. Stored and
    migrated exactly like a DecimalField (migrations name it so).
    """

    @cached_property
    def context(self) -> decimal.Context:
        return decimal.Context(prec=max(self.max_digits or 0, decimal.getcontext().prec))

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs
