"""Categories become a managed list: the model, and a product column to point at it (filled by 0006)."""

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_product_images")]

    operations = [
        migrations.CreateModel(
            name="Category",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                ("slug", models.SlugField(allow_unicode=True, max_length=100, unique=True)),
            ],
            options={
                "verbose_name_plural": "categories",
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("name"),
                        name="catalog_category_name_ci_unique",
                        violation_error_message="A category with this name (in any case) exists already.",
                    ),
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("slug"),
                        name="catalog_category_slug_ci_unique",
                        violation_error_message="A category with this slug (in any case) exists already.",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="product",
            name="category_ref",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="products",
                to="catalog.category",
            ),
        ),
    ]
