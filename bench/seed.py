"""Load the benchmark catalogue: N products, each with its stock item and its ``initial`` ledger row.

Run against a throwaway database only (``bench/run.py`` does)::

    DATABASE_URL=postgres://... python -m bench.seed --products 10000 --stock 1000000

Every product goes through ``catalog.services.create_product`` (which creates its stock item through
``inventory.services``), so products, stock and ledger agree exactly as they would after the API.
All of it runs in one transaction: about 10,000 products in well under a minute.
"""

import argparse
import os
import random
import sys
import time
from decimal import Decimal

CATEGORIES = [f"category-{n:02d}" for n in range(20)]


def seed(*, products: int, stock: int, seed_value: int = 1) -> int:
    """Create ``products`` products with ``stock`` units each; returns how many products exist afterwards."""
    from django.db import transaction

    from catalog import services as catalog
    from catalog.models import Product

    rng = random.Random(seed_value)  # noqa: S311 - repeatable prices, not secrets
    with transaction.atomic():
        for n in range(1, products + 1):
            catalog.create_product(
                name=f"Bench product {n:05d}",
                description=f"Product number {n} of the benchmark catalogue.",
                category=CATEGORIES[n % len(CATEGORIES)],
                price=Decimal(rng.randint(100, 100_000)) / 100,
                stock=stock,
            )
    return Product.objects.count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--stock", type=int, default=1_000_000, help="units on hand per product")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
    import django

    django.setup()
    started = time.perf_counter()
    total = seed(products=args.products, stock=args.stock)
    print(f"seeded {args.products} products ({total} in the catalogue) in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
