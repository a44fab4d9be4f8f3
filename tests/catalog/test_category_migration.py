"""The migrations that turn free-text categories into the managed list, run forwards and backwards on a
database with products in it (PostgreSQL and SQLite)."""

from decimal import Decimal

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from catalog.models import CatalogueVersion, Category, Product
from ecommerce.routers import database_for

pytestmark = pytest.mark.django_db(transaction=True)  # migrations change the schema: no test transaction around them

FREE_TEXT = [("catalog", "0004_product_images")]
MANAGED_LIST = [("catalog", "0007_product_category_fk")]
# Free text as staff typed it over the years -> the category each product ends up in.
PRODUCTS = {
    "Home": "Home",
    "Home ": "Home",
    "home": "Home",
    " HOME": "Home",
    "garden": "Garden",  # one "garden", one "Garden": the tie goes to the spelling that sorts first
    "Garden": "Garden",
    "Home & Garden": "Home & Garden",
    "home-garden": "home-garden",  # another name, the same slug as "Home & Garden"
    "Küche": "Küche",
    "": None,
    "   ": None,
}


def catalog_database():
    """The connection to the catalog's database (``default`` unless APP_DATABASES gives it its own)."""
    return connections[database_for("catalog")]


def migrate(targets):
    """Migrate the catalog's database to ``targets`` (or to the latest migrations for None); the models as they
    are there."""
    executor = MigrationExecutor(catalog_database())
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def postgres_indexes() -> set[str]:
    with catalog_database().cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'catalog_product'")
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def free_text_catalogue():
    """The catalogue as it was before the managed list: products with free-text categories."""
    old = migrate(FREE_TEXT)
    old.get_model("catalog", "CatalogueVersion").objects.update_or_create(pk=1, defaults={"token": "before"})
    OldProduct = old.get_model("catalog", "Product")
    for number, category in enumerate(PRODUCTS, start=1):
        OldProduct.objects.create(name=f"Product {number}", price=Decimal("1.00"), category=category)
    yield old
    migrate(None)  # whatever happened, the next test finds the latest schema


def test_free_text_categories_are_merged_case_insensitively_and_restored_backwards(free_text_catalogue):
    migrate(MANAGED_LIST)

    categories = {category.name: category.slug for category in Category.objects.all()}
    assert categories == {
        "Garden": "garden",
        "Home": "home",
        "Home & Garden": "home-garden",
        "home-garden": "home-garden-2",
        "Küche": "küche",
    }
    products = Product.objects.select_related("category").order_by("id")
    assert [product.category_name or None for product in products] == list(PRODUCTS.values())
    assert CatalogueVersion.objects.get().token != "before"  # no page with the old names is served
    if catalog_database().vendor == "postgresql":
        assert {"catalog_product_category_id"} <= postgres_indexes()
        assert "catalog_product_category_upper" not in postgres_indexes()

    old = migrate(FREE_TEXT)
    restored = old.get_model("catalog", "Product").objects.order_by("id").values_list("category", flat=True)
    assert list(restored) == [category or "" for category in PRODUCTS.values()]
    if catalog_database().vendor == "postgresql":
        assert "catalog_product_category_upper" in postgres_indexes()


def test_the_merge_keeps_the_spelling_most_products_use(free_text_catalogue):
    OldProduct = free_text_catalogue.get_model("catalog", "Product")
    for number in range(3):
        OldProduct.objects.create(name=f"More {number}", price=Decimal("1.00"), category="home")
    migrate(MANAGED_LIST)
    assert Category.objects.get(slug="home").name == "home"  # four "home" against one of each other spelling
    assert Category.objects.get(slug="home").products.count() == 7
