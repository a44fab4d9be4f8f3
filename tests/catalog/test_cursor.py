"""The product list read by cursor (keyset pagination) and its bounded count.

Every page carries `nextCursor`; `?cursor=` reads the page after it, in the same order as the page numbers, at
the same cost at any depth. `count` is exact up to pages.COUNT_LIMIT matches; past that it is a lower bound
(`countIsExact: false`). Cursor pages are kept per catalogue version like numbered ones: never stale.
"""

import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connections
from django.utils import timezone

from catalog import pages, selectors, services
from catalog.errors import InvalidCursor
from catalog.models import Product
from inventory import services as inventory
from tests.catalog.test_cached_reads import round_trips
from tests.conftest import make_product

pytestmark = pytest.mark.django_db

ORDERINGS = ["", "price", "-price", "name", "-name", "createdAt", "-createdAt"]


def walk(client, query: str, page_size: int = 3) -> list[int]:
    """The ids of every page, from the first page by number, then cursor after cursor."""
    body = client.get(f"/products?pageSize={page_size}{query}").json()
    seen = [p["id"] for p in body["results"]]
    while body["nextCursor"] is not None:
        response = client.get(f"/products?pageSize={page_size}{query}&cursor={quote(body['nextCursor'])}")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["previous"] is None
        seen += [p["id"] for p in body["results"]]
        assert len(seen) <= 100, "the cursor does not move on"
    return seen


def expected(ordering: str, **filters) -> list[int]:
    field = {"createdAt": "created_at"}.get(ordering.lstrip("-"), ordering.lstrip("-")) or "id"
    sort = ("-" if ordering.startswith("-") else "") + field
    found = selectors.filter_products(filters=selectors.ProductFilters(ordering=sort, is_active=True, **filters))
    return [product.id for product in found]


@pytest.fixture
def ties():
    """Products with equal prices, names and creation times, so that only their ids order them."""
    for n in range(11):
        make_product(price=f"{n % 3 + 1}.00", name=f"Mug {n % 2}", category="Tea" if n % 2 else "Coffee")
    Product.objects.filter(id__in=list(Product.objects.values_list("id", flat=True)[:6])).update(
        created_at=timezone.now()
    )


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_cursors_give_every_product_once_in_the_order_of_the_pages(anon_client, ties, ordering):
    query = f"&ordering={ordering}" if ordering else ""
    numbered = []
    for page in (1, 2, 3, 4):
        numbered += [p["id"] for p in anon_client.get(f"/products?pageSize=3&page={page}{query}").json()["results"]]
    assert walk(anon_client, query) == numbered == expected(ordering)


@pytest.mark.parametrize("ordering", ["", "-price", "name", "-createdAt"])
def test_cursors_keep_to_the_filters(anon_client, ties, ordering):
    query = f"&category=tea&maxPrice=2&ordering={ordering}"
    assert walk(anon_client, query, page_size=2) == expected(ordering, category="tea", max_price=Decimal(2))
    assert walk(anon_client, f"&search=mug 1&ordering={ordering}", page_size=2) == expected(ordering, search="mug 1")


def test_links_of_a_page_read_by_cursor(anon_client, ties):
    first = anon_client.get("/products?pageSize=4&page=1").json()
    assert "page=2" in first["next"]
    second = anon_client.get(f"/products?pageSize=4&page=7&cursor={quote(first['nextCursor'])}").json()  # page ignored
    assert [p["id"] for p in second["results"]] == expected("")[4:8]
    assert second["previous"] is None
    assert "page=" not in second["next"] and "pageSize=4" in second["next"]
    third = anon_client.get(second["next"]).json()
    assert [p["id"] for p in third["results"]] == expected("")[8:11]
    assert (third["next"], third["nextCursor"], third["count"], third["countIsExact"]) == (None, None, 11, True)


@pytest.mark.parametrize(
    "cursor",
    ["x", "", "W10:abc", "cHJvZHVjdA", "é" * 300],
    ids=["garbage", "blank-means-none", "unsigned", "base64", "long"],
)
def test_a_cursor_the_list_did_not_give_is_400(anon_client, ties, cursor):
    response = anon_client.get("/products", {"cursor": cursor})
    if cursor == "":
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "invalid_cursor", "detail": InvalidCursor.default_message, "attr": "cursor"}
    ]


def test_a_tampered_cursor_or_one_of_another_ordering_is_400(anon_client, staff_client, ties):
    cursor = anon_client.get("/products?pageSize=2&ordering=price").json()["nextCursor"]
    payload, signature = cursor.split(":")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + ":" + signature
    for client, query in [
        (anon_client, {"cursor": forged, "ordering": "price"}),
        (anon_client, {"cursor": cursor}),
        (staff_client, {"cursor": cursor, "ordering": "-price"}),
    ]:
        response = client.get("/products", query)
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["code"] == "invalid_cursor"
    assert anon_client.get("/products", {"cursor": cursor, "ordering": "price"}).status_code == 200


def test_a_cursor_page_is_never_stale(anon_client, staff_client, ties):
    cursor = anon_client.get("/products?pageSize=3").json()["nextCursor"]

    def after() -> list[dict]:
        return anon_client.get(f"/products?pageSize=3&cursor={quote(cursor)}").json()["results"]

    second = after()
    after()  # kept
    services.update_product(product_id=second[0]["id"], price=Decimal("9.50"))
    assert after()[0]["price"] == "9.50"
    inventory.set_available_stock(product_id=second[1]["id"], available=0, actor_id=None)
    assert after()[1]["stock"] == 0
    assert staff_client.delete(f"/products/{second[0]['id']}").status_code == 204
    assert [p["id"] for p in after()] == [p["id"] for p in second[1:]] + [expected("")[5]]
    assert anon_client.get(f"/products/{second[0]['id']}").status_code == 404


def test_staff_and_in_stock_lists_read_by_cursor_too(anon_client, staff_client, ties):
    ids = expected("")
    services.deactivate_product(product_id=ids[1])
    inventory.set_available_stock(product_id=ids[2], available=0, actor_id=None)
    assert walk(staff_client, "") == list(Product.objects.order_by("id").values_list("id", flat=True))
    assert walk(staff_client, "&isActive=false") == [ids[1]]
    in_stock = [i for i in ids if i not in (ids[1], ids[2])]
    assert walk(anon_client, "&inStock=true") == in_stock
    inventory.set_available_stock(product_id=ids[2], available=4, actor_id=None)  # not kept: seen at once
    assert walk(anon_client, "&inStock=true") == sorted([*in_stock, ids[2]])
    assert anon_client.get(f"/products/{ids[1]}").status_code == 404  # staff's pages keep nothing for customers


def test_past_the_count_limit_the_count_is_a_lower_bound(anon_client, monkeypatch, ties):
    monkeypatch.setattr(pages, "COUNT_LIMIT", 4)
    first = anon_client.get("/products?pageSize=2").json()
    assert (first["count"], first["countIsExact"]) == (4, False)
    second = anon_client.get("/products?pageSize=2&page=2").json()  # ends at the limit: more follow all the same
    assert (second["count"], second["countIsExact"], "page=3" in second["next"]) == (4, False, True)
    by_cursor = anon_client.get(f"/products?pageSize=2&cursor={quote(second['nextCursor'])}").json()
    assert (by_cursor["count"], by_cursor["countIsExact"]) == (4, False)
    third = anon_client.get("/products?pageSize=2&page=3").json()  # past the limit: counted in full
    assert (third["count"], third["countIsExact"]) == (11, True)
    pages.clear_cache()
    last = anon_client.get("/products?pageSize=2&page=last").json()
    assert (last["count"], last["countIsExact"], len(last["results"]), last["next"]) == (11, True, 1, None)
    pages.clear_cache()
    assert anon_client.get("/products?pageSize=2&page=7").status_code == 404
    small = anon_client.get("/products?pageSize=2&category=tea").json()  # 5 matches: more than 4
    assert (small["count"], small["countIsExact"]) == (4, False)
    assert anon_client.get("/products?pageSize=2&maxPrice=1").json()["count"] == 4  # 4 matches: exact
    assert anon_client.get("/products?pageSize=2&maxPrice=1").json()["countIsExact"] is True


def test_a_cursor_page_costs_what_a_first_page_costs(anon_client, ties, django_assert_num_queries):
    cursor = anon_client.get("/products?pageSize=3").json()["nextCursor"]
    pages.clear_cache()
    with django_assert_num_queries(3):  # version, the page after the cursor with the bounded count, stock
        assert len(anon_client.get(f"/products?pageSize=3&cursor={quote(cursor)}").json()["results"]) == 3
    with django_assert_num_queries(round_trips(postgresql=1, elsewhere=2)):  # version and stock
        assert len(anon_client.get(f"/products?pageSize=3&cursor={quote(cursor)}").json()["results"]) == 3


@pytest.mark.postgres  # the plans of PostgreSQL's planner
@pytest.mark.parametrize(
    "ordering, index",
    [
        ("id", "catalog_product_"),  # its primary key or (is_active, id)
        ("price", "catalog_product_price_id"),
        ("-price", "catalog_product_price_id"),  # backwards, ties sorted by id as they come (Incremental Sort)
        ("-created_at", "catalog_product_"),  # (-created_at, id), or (created_at, id) backwards and ties sorted
        ("created_at", "catalog_product_created_id"),
    ],
)
def test_an_index_serves_the_page_after_a_cursor_from_the_cursor_on(ordering, index):
    """At a million products the planner takes these of itself (docs/benchmarks.md); a table this small is read
    whole or through a bitmap and sorted, so those are switched off: what remains must be an index that reads
    the rows in order, starting at the cursor (an Index Cond), not a sort."""
    for _ in range(30):
        make_product()
    filters = selectors.ProductFilters(is_active=True, ordering=ordering)
    first = selectors.filter_products(filters=filters).first()
    position = selectors.after(filters=filters, value=getattr(first, ordering.removeprefix("-")), product_id=first.id)
    page = selectors.filter_products(filters=filters).filter(position).values_list(*pages.COLUMNS)[:21]
    sql, params = page.query.sql_with_params()
    with connections[page.db].cursor() as cursor:
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert f"using {index}" in plan and "Index Cond" in plan, plan
    assert "disabled" not in plan.lower() and not re.search(r"(?<!Incremental )Sort  \(", plan), plan
