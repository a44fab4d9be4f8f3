"""Indexes for the product list's search and category filter, on PostgreSQL only.

``search`` is ``UPPER(column::text) LIKE UPPER('%text%')`` over name, description and SKU (Django's
``icontains``): trigram GIN indexes on exactly those expressions let PostgreSQL answer it from the index
instead of reading every product. ``category`` is ``UPPER(category::text) = UPPER('...')`` (``iexact``),
which a B-tree on that expression serves. SQLite has no trigram indexes: there the same queries scan, which
is fine at the sizes SQLite is used for.
"""

from django.db import migrations

TRIGRAM_COLUMNS = ("name", "description", "sku")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in TRIGRAM_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS catalog_product_{column}_trgm ON catalog_product "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS catalog_product_category_upper ON catalog_product (UPPER(category::text), id)"
    )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in TRIGRAM_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS catalog_product_{column}_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS catalog_product_category_upper")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_catalogue_version")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
