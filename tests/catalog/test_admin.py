import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from catalog import services as catalog
from catalog.models import Category, Product
from inventory import services as inventory
from tests.conftest import AllQueries, make_product

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/catalog/product/"
# The pictures inline's management form, as the browser posts it when no picture is added or changed.
NO_PICTURES = {"pictures-TOTAL_FORMS": "0", "pictures-INITIAL_FORMS": "0"}


def change_form(product_id: int, **fields) -> dict:
    """The change form as the browser posts it, unchanged unless ``fields`` say otherwise."""
    product = Product.objects.get(pk=product_id)
    shown_stock = inventory.get_stock_level(product_id=product_id).available
    data = {
        "name": product.name,
        "description": product.description,
        "category": product.category_id or "",
        "sku": product.sku or "",
        "price": str(product.price),
        "stock": shown_stock,
        "initial-stock": shown_stock,
        "is_active": "on" if product.is_active else "",
        "_save": "Save",
        **NO_PICTURES,
    }
    return {**data, **fields}


def test_changelist_shows_available_stock(admin_client):
    product = make_product(name="Lamp", stock=12)
    inventory.reserve_stock(
        order_id=1,
        lines=[inventory.StockLine(product_id=product.id, quantity=5)],
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert f'name="stock-{product.id}" value="7"' in response.content.decode()


def test_changelist_reads_stock_for_the_whole_page_at_once(admin_client):
    make_product()
    with AllQueries() as one_product:
        assert admin_client.get(CHANGELIST).status_code == 200
    for _ in range(20):
        make_product()
    with AllQueries() as many_products:
        assert admin_client.get(CHANGELIST).status_code == 200
    assert len(many_products) == len(one_product)


def test_adding_a_product_creates_its_stock_through_the_ledger(admin_client, admin_user):
    assert 'name="stock"' in admin_client.get(f"{CHANGELIST}add/").content.decode()
    home = Category.objects.get(slug=catalog.create_category(name="Home").slug)
    data = {"name": "Lamp", "description": "", "category": home.pk, "sku": "", "price": "39.00", "stock": 6}
    response = admin_client.post(f"{CHANGELIST}add/", {**data, "initial-stock": 0, "_save": "Save", **NO_PICTURES})
    assert response.status_code == 302, response.content.decode()
    product = Product.objects.get()
    assert (product.name, product.price, product.sku, product.is_active) == ("Lamp", Decimal("39.00"), None, True)
    assert product.category_name == "Home"
    assert inventory.get_stock_level(product_id=product.id).available == 6
    [movement] = inventory.list_stock_movements(product_id=product.id)
    assert (movement.reason, movement.on_hand_delta, movement.actor_id) == ("initial", 6, admin_user.id)


def test_change_form_shows_the_current_stock(admin_client):
    product = make_product(stock=13)
    response = admin_client.get(f"{CHANGELIST}{product.id}/change/")
    assert response.status_code == 200
    assert 'name="stock" value="13"' in response.content.decode()


def test_changing_stock_in_the_admin_writes_the_ledger(admin_client, admin_user):
    product = make_product(stock=10)
    response = admin_client.post(f"{CHANGELIST}{product.id}/change/", change_form(product.id, stock=4))
    assert response.status_code == 302, response.content.decode()
    assert inventory.get_stock_level(product_id=product.id).available == 4
    movement = inventory.list_stock_movements(product_id=product.id)[0]
    assert (movement.reason, movement.on_hand_delta, movement.actor_id) == ("adjustment", -6, admin_user.id)


def test_saving_other_fields_does_not_overwrite_stock_sold_meanwhile(admin_client):
    product = make_product(name="Old", stock=10)
    form = change_form(product.id, name="New")  # the page shows 10 units
    inventory.reserve_stock(
        order_id=1,
        lines=[inventory.StockLine(product_id=product.id, quantity=3)],
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    response = admin_client.post(f"{CHANGELIST}{product.id}/change/", form)
    assert response.status_code == 302, response.content.decode()
    assert Product.objects.get(pk=product.id).name == "New"
    assert inventory.get_stock_level(product_id=product.id).available == 7
    assert "adjustment" not in {m.reason for m in inventory.list_stock_movements(product_id=product.id)}


@pytest.mark.parametrize("field, value", [("price", "0"), ("stock", "-1"), ("name", "")])
def test_admin_form_refuses_invalid_values(admin_client, field, value):
    product = make_product(name="Same", price=Decimal("5.00"), stock=3)
    response = admin_client.post(f"{CHANGELIST}{product.id}/change/", change_form(product.id, **{field: value}))
    assert response.status_code == 200  # the form again, with its errors
    assert response.context["adminform"].form.errors[field]
    stored = Product.objects.get(pk=product.id)
    assert (stored.name, stored.price, inventory.get_stock_level(product_id=product.id).available) == (
        "Same",
        Decimal("5.00"),
        3,
    )


def test_admin_form_refuses_a_taken_sku(admin_client):
    make_product(sku="TAKEN")
    product = make_product(sku="MINE")
    response = admin_client.post(f"{CHANGELIST}{product.id}/change/", change_form(product.id, sku="TAKEN"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["sku"]
    assert Product.objects.get(pk=product.id).sku == "MINE"


def test_products_cannot_be_deleted_only_deactivated(admin_client):
    product, other = make_product(), make_product()
    assert admin_client.get(f"{CHANGELIST}{product.id}/delete/").status_code == 403
    actions = admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert [name for name, _ in actions if name] == ["activate_selected", "deactivate_selected"]
    response = admin_client.post(CHANGELIST, {"action": "deactivate_selected", "_selected_action": [product.id]})
    assert response.status_code == 302
    assert Product.objects.get(pk=product.id).is_active is False
    assert Product.objects.get(pk=other.id).is_active is True


def test_a_role_that_cannot_change_stock_leaves_the_stock_field_enabled_for_the_others(admin_client):
    pricing = Group.objects.create(name="Pricing")
    pricing.permissions.add(*Permission.objects.filter(codename__in=["view_product", "change_product"]))
    pricer = get_user_model().objects.create_user(email="pricer@example.com", password="x", name="P", is_staff=True)
    pricer.groups.add(pricing)
    pricer_client = Client()
    pricer_client.force_login(pricer)
    product = make_product()
    stock_input = re.compile(r'<input type="number" name="stock"[^>]*>')
    page = pricer_client.get(f"{CHANGELIST}{product.id}/change/").content.decode()
    assert " disabled" in stock_input.search(page).group(0)
    page = admin_client.get(f"{CHANGELIST}{product.id}/change/").content.decode()
    assert " disabled" not in stock_input.search(page).group(0)


# Categories: a managed list


def test_the_category_filter_lists_each_category_once(admin_client):
    for category in ["Home", "home", "HOME ", "Garden"]:
        make_product(category=category.strip())
    page = admin_client.get(CHANGELIST).content.decode()
    assert page.count("?category__id__exact=") == 2
    home = Category.objects.get(name="Home")
    filtered = admin_client.get(f"{CHANGELIST}?category__id__exact={home.pk}")
    assert filtered.context["cl"].result_count == 3


def test_the_product_list_reads_categories_with_the_products(admin_client):
    make_product(category="Home")
    with AllQueries() as one_product:
        assert admin_client.get(CHANGELIST).status_code == 200
    for number in range(20):
        make_product(category=f"Category {number}")
    with AllQueries() as many_products:
        assert admin_client.get(CHANGELIST).status_code == 200
    assert len(many_products) == len(one_product)


def test_staff_add_search_and_rename_categories_case_insensitively_unique(admin_client):
    add = admin_client.get("/admin/catalog/category/add/").content.decode()
    assert "prepopulated" in add
    assert admin_client.post("/admin/catalog/category/add/", {"name": "Home", "slug": "home"}).status_code == 302
    again = admin_client.post("/admin/catalog/category/add/", {"name": "HOME", "slug": "house"})
    assert again.status_code == 200
    assert "A category with this name (in any case) exists already." in again.content.decode()
    assert list(Category.objects.values_list("name", flat=True)) == ["Home"]
    found = admin_client.get("/admin/catalog/category/?q=hom")
    assert [category.name for category in found.context["cl"].result_list] == ["Home"]


def test_a_category_in_use_cannot_be_deleted(admin_client):
    make_product(category="Home")
    home = Category.objects.get()
    response = admin_client.post(f"/admin/catalog/category/{home.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200
    assert "Cannot delete category" in response.content.decode()
    assert Category.objects.filter(pk=home.pk).exists()
