"""Load the benchmark catalogue: N products, each with its stock item and its ``initial`` ledger row.

Run against a throwaway database only (``bench/run.py`` does)::

    DATABASE_URL=postgres://... python -m bench.seed --products 10000 --stock 1000000

Products go in through ``catalog.services.import_products`` (which creates their stock items through
``inventory.services``), so products, stock and ledger agree exactly as they would after the API. Bulk
INSERTs of ``--batch`` products, all in one transaction: 10,000 products in a few seconds, 1,000,000 in a
few minutes on PostgreSQL.
"""

import argparse
import os
import random
import sys
import time
from decimal import Decimal

CATEGORIES = [f"category-{n:02d}" for n in range(20)]


def seed(*, products: int, stock: int, seed_value: int = 1, batch: int = 5000, progress=None) -> int:
    """Create ``products`` products with ``stock`` units each; returns how many products exist afterwards."""
    from django.db import transaction

    from catalog import services as catalog

    rng = random.Random(seed_value)  # noqa: S311 - repeatable prices, not secrets
    total = 0
    with transaction.atomic():
        for first in range(1, products + 1, batch):
            numbers = range(first, min(first + batch, products + 1))
            total += len(
                catalog.import_products(
                    products=[
                        catalog.NewProduct(
                            name=f"Bench product {n:05d}",
                            description=f"Product number {n} of the benchmark catalogue.",
                            category=CATEGORIES[n % len(CATEGORIES)],
                            price=Decimal(rng.randint(100, 100_000)) / 100,
                        )
                        for n in numbers
                    ],
                    stock=stock,
                )
            )
            if progress:
                progress(total)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--stock", type=int, default=1_000_000, help="units on hand per product")
    parser.add_argument("--batch", type=int, default=5000, help="products per bulk INSERT")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
    import django

    django.setup()
    started = time.perf_counter()

    def progress(done: int) -> None:
        if done % 100_000 == 0:
            print(f"  {done} products, {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)

    total = seed(products=args.products, stock=args.stock, batch=args.batch, progress=progress)
    print(f"seeded {total} products in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
