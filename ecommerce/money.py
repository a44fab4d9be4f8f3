"""Money helpers: Decimal amounts in the store currency, minor units at provider boundaries."""

from decimal import ROUND_HALF_UP, Decimal

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
