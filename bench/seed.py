"""Load the benchmark catalogue: N products, each with its stock item and its ``initial`` ledger row.

Run against a throwaway database only (``bench/run.py`` does)::

    DATABASE_URL=postgres://... python -m bench.seed --products 10000 --stock 1000000

Products go in through ``catalog.services.import_products`` (which creates their stock items through
``inventory.services``), so products, stock and ledger agree exactly as they would after the API: bulk
INSERTs of ``--batch`` products, all in one transaction. On PostgreSQL, catalogues of more than
``--sql-above`` products are instead written by three set-based ``INSERT ... SELECT`` statements over
``generate_series`` (the same rows: product, stock item, ``initial`` ledger row), then the catalogue
version is bumped (the search's GIN indexes dropped first and built again after the rows): 1,000,000
products in minutes rather than hours of Python.
"""

import argparse
import contextlib
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
        _create_categories()
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


def _create_categories() -> None:
    """The benchmark's categories, unless an earlier seed made them."""
    from catalog import services as catalog

    for name in CATEGORIES:
        with contextlib.suppress(catalog.CategoryTaken):
            catalog.create_category(name=name)


SQL_PRODUCTS = """
INSERT INTO {products} (name, description, category_id, sku, price, is_active, created_at, updated_at, images)
SELECT 'Bench product ' || CASE WHEN n < 100000 THEN lpad(n::text, 5, '0') ELSE n::text END,
       'Product number ' || n || ' of the benchmark catalogue.',
       (SELECT id FROM {categories} WHERE slug = 'category-' || lpad((n %% {category_count})::text, 2, '0')),
       NULL, ((n::bigint * 7919) %% 99901 + 100) / 100.0, true, now(), now(), '[]'
FROM generate_series(1, %s) AS n ORDER BY n
"""
SQL_STOCK = """
INSERT INTO {stock} (product_id, on_hand, reserved, listed, updated_at)
SELECT id, %s, 0, true, now() FROM {products} WHERE id > %s
"""
SQL_LEDGER = """
INSERT INTO {ledger} (product_id, on_hand_delta, reserved_delta, reason, note, created_at)
SELECT id, %s, 0, 'initial', '', now() FROM {products} WHERE id > %s
"""


def seed_with_sql(*, products: int, stock: int) -> int:
    """The same rows as ``seed``, written by PostgreSQL itself (prices vary by a fixed formula instead)."""
    from django.db import connection, transaction

    from catalog.models import Category, Product, bump_catalogue_version
    from inventory.models import StockItem, StockMovement

    tables = {
        "products": Product._meta.db_table,
        "categories": Category._meta.db_table,
        "stock": StockItem._meta.db_table,
        "ledger": StockMovement._meta.db_table,
        "category_count": len(CATEGORIES),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        _create_categories()
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {tables['products']}")  # noqa: S608 - table names only
        (last_id,) = cursor.fetchone()
        # The search's GIN indexes are built once after the rows rather than maintained row by row.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [tables["products"], "% USING gin %"],
        )
        gin_indexes = cursor.fetchall()
        for name, _ in gin_indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(SQL_PRODUCTS.format(**tables), [products])
        cursor.execute(SQL_STOCK.format(**tables), [stock, last_id])
        cursor.execute(SQL_LEDGER.format(**tables), [stock, last_id])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign key checks, before the index builds
        for _, definition in gin_indexes:
            cursor.execute(definition)
        bump_catalogue_version()
    return products


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--stock", type=int, default=1_000_000, help="units on hand per product")
    parser.add_argument("--batch", type=int, default=5000, help="products per bulk INSERT")
    parser.add_argument("--sql-above", type=int, default=50_000, help="on PostgreSQL, seed larger catalogues in SQL")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
    import django

    django.setup()
    started = time.perf_counter()

    def progress(done: int) -> None:
        if done % 100_000 == 0:
            print(f"  {done} products, {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)

    from django.db import connection

    if connection.vendor == "postgresql" and args.products > args.sql_above:
        total = seed_with_sql(products=args.products, stock=args.stock)
    else:
        total = seed(products=args.products, stock=args.stock, batch=args.batch, progress=progress)
    print(f"seeded {total} products in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
