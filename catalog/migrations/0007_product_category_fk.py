"""Products point at their Category: the free-text column goes and the reference takes its name.

The list's category filter is then ``category_id = (the matching category)``, served by the index on
(category, id) in the order pages are read. The PostgreSQL-only index of 0003 on the free text goes with
its column (and comes back when this migration is reversed).
"""

from django.db import migrations, models


def drop_free_text_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS catalog_product_category_upper")


def restore_free_text_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS catalog_product_category_upper ON catalog_product (UPPER(category::text), id)"
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_merge_free_text_categories")]

    operations = [
        migrations.RunPython(drop_free_text_index, restore_free_text_index),
        migrations.RemoveField(model_name="product", name="category"),
        migrations.RenameField(model_name="product", old_name="category_ref", new_name="category"),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["category", "id"], name="catalog_product_category_id"),
        ),
    ]
