"""The cached product list and the fast detail: never stale, the same JSON as the serializer, few queries.

Customers' and anonymous clients' product pages are kept rendered per catalogue version (catalog.pages);
every change below must be visible on the very next list and detail request.
"""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone
from djangorestframework_camel_case.render import CamelCaseJSONRenderer
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from catalog import pages, selectors, services
from catalog.api import ProductSerializer
from catalog.models import Category, Product
from ecommerce.db import atomic
from ecommerce.routers import database_for
from inventory import services as inventory
from tests.catalog.test_admin import CHANGELIST, change_form
from tests.conftest import make_product

pytestmark = pytest.mark.django_db


def listed(client, product_id: int, query: str = "") -> dict | None:
    """The product as the list shows it (None if it is not there), and as the detail shows it must agree."""
    response = client.get(f"/products?pageSize=100{query}")
    assert response.status_code == 200, response.content
    return next((p for p in response.json()["results"] if p["id"] == product_id), None)


def shown(client, product_id: int) -> tuple[dict | None, dict | None]:
    """What the next list request and the next detail request show of a product (None: not shown)."""
    detail = client.get(f"/products/{product_id}")
    assert detail.status_code in (200, 404), detail.content
    return listed(client, product_id), (detail.json() if detail.status_code == 200 else None)


def serializer_json(product_id: int) -> dict:
    """The product as the generic serializer and renderer would write it (camelCase as on the wire)."""
    details = selectors.get_product_details(product_id=product_id, include_inactive=True)
    return json.loads(CamelCaseJSONRenderer().render(ProductSerializer(details).data))


@pytest.fixture
def warm(anon_client):
    """A product whose list page and detail have been read (so cached) before each change."""
    product = make_product(name="Teapot", price="12.50", stock=10)
    for _ in range(2):
        assert shown(anon_client, product.id)[0]["stock"] == 10
    return product


# The JSON is the serializer's


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "Plain", "price": "20"},
        {"name": "Ünïcode ☕ \u2028 line sep", "price": "0.01", "description": 'quo"tes\\ and\nnewline', "sku": "S-1"},
        {"name": "Big", "price": "999999999.99", "category": "Kitchen"},
    ],
)
def test_list_and_detail_write_exactly_what_the_serializer_writes(anon_client, fields):
    price = fields.pop("price")
    product = make_product(price=price, **fields)
    inventory.adjust_stock(product_id=product.id, delta=3)
    expected = serializer_json(product.id)
    in_list, detail = shown(anon_client, product.id)
    assert list(in_list.items()) == list(expected.items())  # same keys, same order, same values
    assert list(detail.items()) == list(expected.items())
    raw = anon_client.get(f"/products/{product.id}").content
    assert raw == JSONRenderer().render(expected)  # byte for byte, \u2028 escaped as DRF does


def test_cached_pages_say_they_are_json(anon_client, product):
    for path in ("/products", f"/products/{product.id}"):
        response = anon_client.get(path)
        assert response["Content-Type"] == "application/json"


# Every change is visible on the very next request


def test_a_price_change_through_the_api_is_visible_at_once(anon_client, staff_client, warm):
    assert staff_client.patch(f"/products/{warm.id}", {"price": "13.75"}, format="json").status_code == 200
    in_list, detail = shown(anon_client, warm.id)
    assert in_list["price"] == detail["price"] == "13.75"


def test_a_name_change_through_the_service_is_visible_at_once(anon_client, warm):
    services.update_product(product_id=warm.id, name="Kettle")
    in_list, detail = shown(anon_client, warm.id)
    assert in_list["name"] == detail["name"] == "Kettle"
    assert listed(anon_client, warm.id, "&search=kettle")["name"] == "Kettle"


def test_deactivating_hides_the_product_at_once_and_reactivating_shows_it(anon_client, staff_client, warm):
    assert staff_client.delete(f"/products/{warm.id}").status_code == 204
    assert shown(anon_client, warm.id) == (None, None)
    assert anon_client.get("/products").json()["count"] == 0
    assert staff_client.patch(f"/products/{warm.id}", {"isActive": True}, format="json").status_code == 200
    in_list, detail = shown(anon_client, warm.id)
    assert in_list["isActive"] is detail["isActive"] is True


def test_a_new_product_appears_at_once(anon_client, staff_client, warm):
    created = staff_client.post("/products", {"name": "New", "price": "1.00", "stock": 2}, format="json").json()
    assert anon_client.get("/products").json()["count"] == 2
    assert shown(anon_client, created["id"])[0]["name"] == "New"


@pytest.mark.parametrize(
    "change, expected_stock",
    [
        (lambda pid, _: inventory.adjust_stock(product_id=pid, delta=5), 15),
        (lambda pid, _: inventory.set_available_stock(product_id=pid, available=2), 2),
        (lambda pid, staff: staff.patch(f"/products/{pid}", {"stock": 7}, format="json"), 7),
        (lambda pid, staff: staff.patch(f"/inventory/{pid}", {"adjustBy": -4}, format="json"), 6),
    ],
    ids=["restock", "set-available", "products-api", "inventory-api"],
)
def test_a_stock_change_is_visible_at_once(anon_client, staff_client, warm, change, expected_stock):
    change(warm.id, staff_client)
    in_list, detail = shown(anon_client, warm.id)
    assert in_list["stock"] == detail["stock"] == expected_stock


def test_reservations_sales_and_releases_are_visible_at_once(anon_client, warm):
    expires = timezone.now() + timedelta(minutes=30)
    inventory.reserve_stock(order_id=7, lines=[inventory.StockLine(product_id=warm.id, quantity=3)], expires_at=expires)
    assert [p["stock"] for p in shown(anon_client, warm.id)] == [7, 7]
    inventory.commit_reservation(order_id=7)
    assert [p["stock"] for p in shown(anon_client, warm.id)] == [7, 7]
    inventory.reserve_stock(order_id=8, lines=[inventory.StockLine(product_id=warm.id, quantity=2)], expires_at=expires)
    assert [p["stock"] for p in shown(anon_client, warm.id)] == [5, 5]
    inventory.release_reservation(order_id=8)
    assert [p["stock"] for p in shown(anon_client, warm.id)] == [7, 7]


def test_a_checkout_through_the_api_is_visible_at_once(anon_client, customer_client, warm):
    assert customer_client.post("/cart", {"productId": warm.id, "quantity": 4}, format="json").status_code == 200
    assert customer_client.post("/order/checkout", {}, format="json").status_code == 201
    assert [p["stock"] for p in shown(anon_client, warm.id)] == [6, 6]


def test_an_admin_edit_is_visible_at_once(anon_client, client, warm):
    admin = get_user_model().objects.create_superuser(email="admin@example.com", password="x", name="Admin")
    client.force_login(admin)
    form = change_form(warm.id, name="Renamed", price="99.00", stock=1)
    assert client.post(f"{CHANGELIST}{warm.id}/change/", form).status_code == 302
    in_list, detail = shown(anon_client, warm.id)
    assert (in_list["name"], in_list["price"], in_list["stock"]) == ("Renamed", "99.00", 1)
    assert (detail["name"], detail["price"], detail["stock"]) == ("Renamed", "99.00", 1)


def test_renaming_a_category_in_the_admin_is_visible_at_once(anon_client, client):
    product = make_product(name="Teapot", category="Kitchen")
    for _ in range(2):  # rendered, then served from the cache
        in_list, detail = shown(anon_client, product.id)
        assert in_list["category"] == detail["category"] == "Kitchen"
        assert listed(anon_client, product.id, "&category=kitchen")["category"] == "Kitchen"
    admin = get_user_model().objects.create_superuser(email="admin@example.com", password="x", name="Admin")
    client.force_login(admin)
    kitchen = Category.objects.get(name="Kitchen")
    form = {"name": "Cookware", "slug": "cookware", "_save": "Save"}
    assert client.post(f"/admin/catalog/category/{kitchen.pk}/change/", form).status_code == 302
    in_list, detail = shown(anon_client, product.id)
    assert in_list["category"] == detail["category"] == "Cookware"
    assert listed(anon_client, product.id, "&category=cookware")["category"] == "Cookware"
    assert listed(anon_client, product.id, "&category=kitchen") is None


def test_any_orm_write_to_products_is_visible_at_once(anon_client, warm):
    Product.objects.filter(pk=warm.id).update(price=Decimal("3.00"))
    assert listed(anon_client, warm.id)["price"] == "3.00"
    Product.objects.bulk_create([Product(name="Bulk", price=Decimal("1.00"))])
    assert anon_client.get("/products").json()["count"] == 2


def test_a_rolled_back_change_is_never_served(anon_client, warm):
    with pytest.raises(RuntimeError), atomic("catalog"):
        services.update_product(product_id=warm.id, price=Decimal("1.00"))
        assert listed(anon_client, warm.id)["price"] == "1.00"  # rendered and cached inside the transaction
        raise RuntimeError("roll back")
    assert listed(anon_client, warm.id)["price"] == "12.50"


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_visible_at_once():
    """Committed changes from elsewhere (another worker) reach this process through the catalogue version."""
    import threading

    client = APIClient()
    product = make_product(name="Teapot", price="12.50", stock=10)
    assert listed(client, product.id)["price"] == "12.50"

    def elsewhere():
        try:
            services.update_product(product_id=product.id, price=Decimal("14.00"), stock=3)
        finally:
            connections.close_all()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    in_list, detail = shown(client, product.id)
    assert (in_list["price"], in_list["stock"]) == (detail["price"], detail["stock"]) == ("14.00", 3)


# Pages, and what they cost


def round_trips(*, postgresql: int, elsewhere: int) -> int:
    """On PostgreSQL the catalogue version rides in the stock query's round trip (ecommerce.db.read_alongside),
    when the catalog and inventory share that database (with APP_DATABASES each may have its own)."""
    shared = database_for("catalog") == database_for("inventory")
    return postgresql if shared and connections[database_for("catalog")].vendor == "postgresql" else elsewhere


def test_a_kept_page_costs_one_round_trip_and_a_fresh_one_three(anon_client, django_assert_num_queries):
    for _ in range(30):
        make_product()
    with django_assert_num_queries(3):  # version, page with its count, stock
        assert len(anon_client.get("/products?pageSize=25").json()["results"]) == 25
    with django_assert_num_queries(round_trips(postgresql=1, elsewhere=2)):  # version and stock
        assert len(anon_client.get("/products?pageSize=25").json()["results"]) == 25
    with django_assert_num_queries(3):  # another page: its count is known, so version, page, stock
        assert len(anon_client.get("/products?pageSize=25&page=2").json()["results"]) == 5


def test_after_a_change_a_kept_page_is_rendered_again_at_the_cost_of_one_query(
    anon_client, warm, django_assert_num_queries
):
    services.update_product(product_id=warm.id, price=Decimal("13.00"))
    # version and stock (the page kept under the version seen last), then the page with its count again
    with django_assert_num_queries(round_trips(postgresql=2, elsewhere=3)):
        assert listed(anon_client, warm.id)["price"] == "13.00"


def test_a_category_page_costs_the_same_queries(anon_client, django_assert_num_queries):
    for number in range(30):
        make_product(category=f"Category {number % 3}")
    with django_assert_num_queries(3):  # version, page with its count (the category by a subquery), stock
        page = anon_client.get("/products?pageSize=5&category=category-1").json()
    assert page["count"] == 10
    assert {product["category"] for product in page["results"]} == {"Category 1"}
    with django_assert_num_queries(round_trips(postgresql=1, elsewhere=2)):  # version and stock
        assert anon_client.get("/products?pageSize=5&category=category-1").json() == page


def test_the_detail_costs_two_queries_and_one_round_trip_once_kept(anon_client, product, django_assert_num_queries):
    with django_assert_num_queries(2):  # version with the product, stock
        first = anon_client.get(f"/products/{product.id}")
    with django_assert_num_queries(round_trips(postgresql=1, elsewhere=2)):  # version and stock
        assert anon_client.get(f"/products/{product.id}").content == first.content


def test_after_a_change_a_kept_product_costs_one_query_more(anon_client, warm, django_assert_num_queries):
    services.update_product(product_id=warm.id, name="Kettle")
    # version and stock (the product kept under the version seen last), then the version with the product
    with django_assert_num_queries(round_trips(postgresql=2, elsewhere=3)):
        assert anon_client.get(f"/products/{warm.id}").json()["name"] == "Kettle"


def test_a_product_listed_is_kept_for_its_detail(anon_client, product, django_assert_num_queries):
    anon_client.get("/products")
    with django_assert_num_queries(round_trips(postgresql=1, elsewhere=2)):  # version and stock
        assert anon_client.get(f"/products/{product.id}").json()["id"] == product.id


def test_an_unknown_or_withdrawn_product_is_404_and_stays_so_only_until_it_changes(anon_client, staff_client, warm):
    for _ in range(2):  # read, then kept as not for sale
        assert anon_client.get("/products/999999").status_code == 404
    assert staff_client.delete(f"/products/{warm.id}").status_code == 204
    for _ in range(2):
        assert anon_client.get(f"/products/{warm.id}").status_code == 404
    assert staff_client.patch(f"/products/{warm.id}", {"isActive": True}, format="json").status_code == 200
    assert anon_client.get(f"/products/{warm.id}").json()["isActive"] is True


@pytest.mark.parametrize("count_limit", [pages.COUNT_LIMIT, 5], ids=["count-with-the-page", "exact-count-first"])
@pytest.mark.parametrize("ordering", ["", "&ordering=-price", "&ordering=name", "&ordering=createdAt"])
def test_pages_past_the_middle_read_from_the_end_give_the_same_rows(anon_client, monkeypatch, ordering, count_limit):
    monkeypatch.setattr(pages, "COUNT_LIMIT", count_limit)  # pages past the bounded count, as at a million products
    for n in range(23):
        make_product(price=f"{(n * 7) % 5 + 1}.00", name=f"P{(n * 3) % 4}")
    sort = ordering.removeprefix("&ordering=") or "id"
    field = {"createdAt": "created_at"}.get(sort.lstrip("-"), sort.lstrip("-"))
    sign = "-" if sort.startswith("-") else ""
    filters = selectors.ProductFilters(ordering=sign + field)
    expected = [p.id for p in selectors.filter_products(filters=filters)]
    seen = []
    for page in (1, 2, 3, 4, 5):  # page 1 first, so the count is known for the later pages
        if count_limit < pages.COUNT_LIMIT:
            pages.clear_cache()  # every page a first request: its count unknown
        seen += [p["id"] for p in anon_client.get(f"/products?pageSize=5&page={page}{ordering}").json()["results"]]
    assert seen == expected


def test_last_page_and_invalid_pages(anon_client):
    ids = [make_product().id for _ in range(5)]
    last = anon_client.get("/products?pageSize=2&page=last").json()
    assert [p["id"] for p in last["results"]] == ids[4:]
    assert last["next"] is None and "page=2" in last["previous"]
    for query in ("page=4", "page=0", "page=-1", "page=1.0", "page=x"):
        response = anon_client.get(f"/products?pageSize=2&{query}")
        assert response.status_code == 404, query
        assert response.json()["errors"][0] == {"code": "not_found", "detail": "Invalid page.", "attr": None}


def test_an_empty_catalogue_has_one_empty_page(anon_client):
    assert anon_client.get("/products").json() == {
        "count": 0,
        "countIsExact": True,
        "next": None,
        "previous": None,
        "nextCursor": None,
        "results": [],
    }
    assert anon_client.get("/products?page=2").status_code == 404


def test_filters_are_part_of_the_cache_key(anon_client):
    cheap = make_product(price="5.00", category="Tea")
    dear = make_product(price="50.00", category="Coffee")
    assert [p["id"] for p in anon_client.get("/products?maxPrice=10").json()["results"]] == [cheap.id]
    assert [p["id"] for p in anon_client.get("/products?minPrice=10").json()["results"]] == [dear.id]
    assert [p["id"] for p in anon_client.get("/products?category=coffee").json()["results"]] == [dear.id]
    assert anon_client.get("/products?search=zzz").json()["count"] == 0


@pytest.mark.postgres  # the plan of PostgreSQL's planner; SQLite has the same index
def test_the_category_filter_reads_the_category_index():
    for number in range(30):
        make_product(category=f"Category {number % 3}")
    filters = selectors.ProductFilters(category="category-1", is_active=True)
    page = selectors.filter_products(filters=filters).values_list(*pages.COLUMNS)[:20]
    sql, params = page.query.sql_with_params()
    with connections[page.db].cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would otherwise be read whole
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Index Scan using catalog_product_cat_active_id on catalog_product" in plan, plan


@pytest.mark.parametrize("ordering", ["", "&ordering=-price", "&ordering=name", "&ordering=-createdAt"])
def test_a_search_keeps_the_order_asked_for(anon_client, ordering):
    """A search sorts by expressions no index serves (selectors.filter_products): the same order all the same."""
    for n in range(12):
        make_product(name=f"Mug {(n * 5) % 7}", price=f"{(n * 3) % 4 + 1}.00")
        make_product(name=f"Plate {n}")
    sort = ordering.removeprefix("&ordering=") or "id"
    field = {"createdAt": "created_at"}.get(sort.lstrip("-"), sort.lstrip("-"))
    filters = selectors.ProductFilters(ordering=("-" if sort.startswith("-") else "") + field)
    expected = [p.id for p in selectors.filter_products(filters=filters) if p.name.startswith("Mug")]
    seen = []
    for page in (1, 2, 3):
        response = anon_client.get(f"/products?search=mug&pageSize=5&page={page}{ordering}").json()
        seen += [p["id"] for p in response["results"]]
    assert seen == expected


def test_a_deep_page_past_the_last_is_not_found_when_its_count_was_not_known(anon_client):
    """A deep page's count is read before the page (catalog.pages._fetch_page): past it, the page does not exist,
    as when the count was kept (here another worker may have kept it, this one not)."""
    make_product()
    pages.clear_cache()
    response = anon_client.get("/products?page=999")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert anon_client.get("/products?page=1").json()["count"] == 1
