"""Today's free-text categories become Category rows, merged case-insensitively.

Values that differ only in case or surrounding spaces ("Home", "home", " HOME") are one category, named
with the spelling most products use (a tie goes to the spelling that sorts first, so "Home" before
"home"); blank values mean no category. Slugs are the name slugified, with "-2", "-3"... where two names
slugify alike. Backwards, each product gets its category's name as free text again.
"""

import uuid
from collections import Counter, defaultdict

from django.db import migrations
from django.db.models import Count
from django.utils.text import slugify

SLUG_LENGTH = 100


def _unique_slug(name: str, taken: set[str]) -> str:
    base = slugify(name, allow_unicode=True)[:SLUG_LENGTH] or "category"
    slug, number = base, 1
    while slug in taken:
        number += 1
        suffix = f"-{number}"
        slug = base[: SLUG_LENGTH - len(suffix)] + suffix
    taken.add(slug)
    return slug


def merge_categories(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Category = apps.get_model("catalog", "Category")
    spellings: dict[str, Counter] = defaultdict(Counter)  # lower-cased name -> {spelling as stored: products}
    for spelling, products in Product.objects.values_list("category").annotate(n=Count("id")).order_by():
        if spelling.strip():
            spellings[spelling.strip().lower()][spelling] += products
    taken: set[str] = set()
    for key in sorted(spellings):
        counts = Counter()
        for spelling, products in spellings[key].items():
            counts[spelling.strip()] += products
        name = min(counts, key=lambda text: (-counts[text], text))
        category = Category.objects.create(name=name, slug=_unique_slug(name, taken))
        Product.objects.filter(category__in=list(spellings[key])).update(category_ref=category)
    # Product pages now show the merged names: cached pages of the old names must not be served.
    apps.get_model("catalog", "CatalogueVersion").objects.update(token=uuid.uuid4().hex)


def restore_free_text(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    for category in apps.get_model("catalog", "Category").objects.all():
        Product.objects.filter(category_ref=category).update(category=category.name)
    apps.get_model("catalog", "CatalogueVersion").objects.update(token=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_category")]

    operations = [migrations.RunPython(merge_categories, restore_free_text)]
