from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from catalog import services
from catalog.errors import CategoryTaken, ProductNotFound, SkuTaken, UnknownCategory
from catalog.models import Category, Product
from ecommerce.db import atomic
from inventory import services as inventory
from tests.conftest import make_product

pytestmark = pytest.mark.django_db


def movements(product_id: int) -> list[tuple[str, int, int | None]]:
    ledger = reversed(inventory.list_stock_movements(product_id=product_id))
    return [(movement.reason, movement.on_hand_delta, movement.actor_id) for movement in ledger]


def test_create_product_returns_info_and_creates_its_stock(staff):
    services.create_category(name="Home")
    product = services.create_product(
        name="Mug", price=Decimal("9.50"), stock=7, category="Home", sku="MUG-1", actor_id=staff.id
    )
    assert product == services.ProductInfo(
        id=product.id, name="Mug", price=Decimal("9.50"), is_active=True, sku="MUG-1", category="Home"
    )
    assert isinstance(product.price, Decimal)
    level = inventory.get_stock_level(product_id=product.id)
    assert (level.on_hand, level.reserved, level.available) == (7, 0, 7)
    assert movements(product.id) == [("initial", 7, staff.id)]


def test_create_product_without_stock_starts_at_zero():
    product = services.create_product(name="Mug", price=Decimal("1.00"))
    assert inventory.get_stock_level(product_id=product.id).available == 0


def test_create_product_is_one_transaction_with_its_stock_item():
    with pytest.raises(inventory.InsufficientStock):
        services.create_product(name="Mug", price=Decimal("1.00"), stock=-1)
    assert not Product.objects.exists()
    assert inventory.list_stock_movements() == []


def test_create_product_with_a_taken_sku_raises_and_creates_nothing():
    make_product(sku="ABC")
    with pytest.raises(SkuTaken) as error:
        make_product(sku="ABC")
    assert error.value.attr == "sku"
    assert Product.objects.count() == 1


def test_sku_is_case_sensitive():
    make_product(sku="abc")
    assert make_product(sku="ABC").sku == "ABC"


@pytest.mark.parametrize("sku", [None, ""])
def test_products_without_sku_do_not_collide(sku):
    first, second = make_product(sku=sku), make_product(sku=sku)
    assert first.sku is second.sku is None
    assert Product.objects.filter(sku__isnull=True).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_inserts_of_one_sku_make_one_product_and_report_the_others_as_sku_taken():
    from tests.concurrency.conftest import race

    results = race(8, lambda i: services.create_product(name=f"Mug {i}", price=Decimal("1.00"), sku="ABC"))

    created = [r for r in results if isinstance(r, services.ProductInfo)]
    assert len(created) == 1 and all(isinstance(r, SkuTaken) for r in results if r not in created), results
    assert [p.sku for p in services.find_products(search="ABC").items] == ["ABC"]


def test_an_integrity_error_that_is_not_about_the_sku_is_not_hidden():
    with pytest.raises(IntegrityError):
        make_product(price=Decimal("0.00"))
    assert not Product.objects.exists()


def test_database_refuses_a_price_below_one_cent():
    product = make_product()
    with pytest.raises(IntegrityError):
        Product.objects.filter(pk=product.id).update(price=Decimal("0.00"))


def test_categories_are_unique_by_name_and_slug_whatever_the_case():
    assert services.create_category(name="Home") == services.CategoryInfo(name="Home", slug="home")
    assert services.create_category(name="Home Office", slug="office").slug == "office"
    for name, slug in [("HOME", ""), ("home", "elsewhere"), ("Study", "Office"), ("Study", "HOME")]:
        with pytest.raises(CategoryTaken):
            services.create_category(name=name, slug=slug)
    for name, slug in [("hOmE", "other"), ("Other", "OFFICE")]:  # the database refuses them too
        with pytest.raises(IntegrityError), atomic("catalog"):
            Category.objects.create(name=name, slug=slug)
    assert Category.objects.count() == 2


def test_a_product_takes_a_category_of_the_list_by_name_or_slug_in_any_case():
    services.create_category(name="Home Office", slug="office")
    assert services.create_product(name="Desk", price=Decimal("90"), category="home office").category == "Home Office"
    assert services.create_product(name="Lamp", price=Decimal("9"), category="Office").category == "Home Office"
    with pytest.raises(UnknownCategory):
        services.create_product(name="Chair", price=Decimal("40"), category="Seating")
    with pytest.raises(UnknownCategory):
        services.import_products(products=[services.NewProduct(name="Chair", price=Decimal("40"), category="Seats")])
    assert sorted(Product.objects.values_list("name", flat=True)) == ["Desk", "Lamp"]
    assert Category.objects.count() == 1


def test_list_categories_names_each_category_with_active_products_once():
    for category in ["Home", "home", "HOME", "Garden", "Attic"]:
        make_product(category=category)
    services.create_category(name="Empty")
    attic = Category.objects.get(name="Attic").products.get()
    services.deactivate_product(product_id=attic.id)
    assert services.list_categories() == ["Garden", "Home"]


def test_update_product_changes_only_the_given_fields():
    product = make_product(name="Old", price=Decimal("5.00"), category="A", sku="S1")
    later = Product.objects.get(pk=product.id).updated_at + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        updated = services.update_product(product_id=product.id, name="New", price=Decimal("6.25"))
    assert updated == services.ProductInfo(
        id=product.id, name="New", price=Decimal("6.25"), is_active=True, sku="S1", category="A"
    )
    after = Product.objects.get(pk=product.id)
    assert (after.name, after.price, after.category_name, after.sku) == ("New", Decimal("6.25"), "A", "S1")
    assert after.updated_at == later


def test_update_product_stock_sets_available_stock_through_the_ledger(staff):
    product = make_product(stock=10)
    inventory.reserve_stock(
        order_id=1,
        lines=[inventory.StockLine(product_id=product.id, quantity=3)],
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    services.update_product(product_id=product.id, stock=5, actor_id=staff.id)
    level = inventory.get_stock_level(product_id=product.id)
    assert (level.available, level.on_hand, level.reserved) == (5, 8, 3)
    assert movements(product.id)[-1] == ("adjustment", -2, staff.id)


def test_update_product_is_one_transaction_with_the_stock_change():
    product = make_product(name="Old", stock=4)
    with pytest.raises(inventory.InsufficientStock):
        services.update_product(product_id=product.id, name="New", stock=-1)
    assert Product.objects.get(pk=product.id).name == "Old"
    assert inventory.get_stock_level(product_id=product.id).available == 4


def test_update_product_with_a_taken_sku_raises_and_changes_nothing():
    make_product(sku="TAKEN")
    product = make_product(sku="MINE", stock=4)
    with pytest.raises(SkuTaken):
        services.update_product(product_id=product.id, sku="TAKEN", stock=9)
    assert Product.objects.get(pk=product.id).sku == "MINE"
    assert inventory.get_stock_level(product_id=product.id).available == 4


def test_update_product_keeping_its_own_sku_is_fine():
    product = make_product(sku="MINE")
    assert services.update_product(product_id=product.id, sku="MINE", name="Renamed").sku == "MINE"


def test_update_product_can_clear_the_sku():
    product = make_product(sku="MINE")
    assert services.update_product(product_id=product.id, sku="").sku is None


def test_update_unknown_product_raises_not_found():
    with pytest.raises(ProductNotFound):
        services.update_product(product_id=999_999, name="x")


def test_update_product_refuses_fields_that_cannot_change():
    product = make_product()
    with pytest.raises(TypeError):
        services.update_product(product_id=product.id, created_at=timezone.now())


def test_deactivate_product_keeps_the_row_and_is_idempotent():
    product = make_product()
    services.deactivate_product(product_id=product.id)
    services.deactivate_product(product_id=product.id)
    assert Product.objects.get(pk=product.id).is_active is False
    assert services.get_products(product_ids=[product.id])[product.id].is_active is False


def test_deactivate_unknown_product_raises_not_found():
    with pytest.raises(ProductNotFound):
        services.deactivate_product(product_id=999_999)


def test_get_products_in_one_query_including_inactive(django_assert_num_queries):
    active, inactive = make_product(), make_product()
    services.deactivate_product(product_id=inactive.id)
    with django_assert_num_queries(1):
        products = services.get_products(product_ids=[active.id, inactive.id, 999_999])
    assert set(products) == {active.id, inactive.id}
    assert products[active.id] == active
    assert products[inactive.id].is_active is False


def test_get_active_product():
    product = make_product()
    assert services.get_active_product(product_id=product.id) == product


def test_get_active_product_refuses_inactive_and_unknown_products():
    product = make_product()
    services.deactivate_product(product_id=product.id)
    with pytest.raises(ProductNotFound):
        services.get_active_product(product_id=product.id)
    with pytest.raises(ProductNotFound):
        services.get_active_product(product_id=999_999)


def test_load_demo_catalogue_fills_an_empty_catalogue_once(capsys):
    call_command("load_demo_catalogue")
    products = list(Product.objects.all())
    assert len(products) >= 16
    assert len({p.category for p in products}) == 4
    stock = inventory.get_stock_levels(product_ids=[p.id for p in products])
    assert set(stock) == {p.id for p in products}
    assert any(level.available > 0 for level in stock.values())
    assert "Created" in capsys.readouterr().out

    call_command("load_demo_catalogue")
    assert Product.objects.count() == len(products)
    assert "no demo products created" in capsys.readouterr().out


def test_import_products_creates_each_with_its_stock_and_initial_ledger_row():
    services.create_category(name="Tea")
    ids = services.import_products(
        products=[
            services.NewProduct(name="A", price=Decimal("1.00")),
            services.NewProduct(name="B", price=Decimal("2.50"), sku="B-1", category="Tea"),
        ],
        stock=5,
    )
    products = services.get_products(product_ids=ids)
    assert [(products[i].name, products[i].price, products[i].sku, products[i].category) for i in ids] == [
        ("A", Decimal("1.00"), None, ""),
        ("B", Decimal("2.50"), "B-1", "Tea"),
    ]
    levels = inventory.get_stock_levels(product_ids=ids)
    assert {i: level.available for i, level in levels.items()} == {i: 5 for i in ids}
    for product_id in ids:
        ledger = inventory.list_stock_movements(product_id=product_id)
        assert [(m.reason, m.on_hand_delta, m.reserved_delta) for m in ledger] == [("initial", 5, 0)]


@pytest.mark.django_db
@pytest.mark.parametrize(("ordering", "label"), [c for c in services.SORT_CHOICES if c[0]])
def test_every_sort_offered_to_shoppers_is_an_ordering_find_products_takes(ordering, label):
    cheap, dear = make_product(price="1.00", name="B cheap"), make_product(price="9.00", name="A dear")
    names = [p.name for p in services.find_products(ordering=ordering).items]
    assert sorted(names) == sorted([cheap.name, dear.name]), label
