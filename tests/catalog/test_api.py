import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from catalog import services
from catalog.errors import UnknownCategory
from catalog.models import Category, Product
from inventory import services as inventory
from tests.conftest import make_product

pytestmark = pytest.mark.django_db

PRODUCT_FIELDS = {
    "id",
    "name",
    "description",
    "category",
    "sku",
    "price",
    "currency",
    "stock",
    "isActive",
    "createdAt",
    "updatedAt",
    "images",
}
NEW_PRODUCT = {"name": "Desk Lamp", "price": "39.00", "stock": 5}


def first_error(response) -> dict:
    return response.json()["errors"][0]


def result_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [product["id"] for product in response.json()["results"]]


def available(product_id: int) -> int:
    return inventory.get_stock_level(product_id=product_id).available


def reserve(product_id: int, quantity: int) -> None:
    inventory.reserve_stock(
        order_id=1,
        lines=[inventory.StockLine(product_id=product_id, quantity=quantity)],
        expires_at=timezone.now() + timedelta(minutes=30),
    )


# Reading


def test_anyone_can_list_products(anon_client):
    product = make_product(name="Mug", price=Decimal("19.99"), stock=3, description="Big", category="Home", sku="MUG-1")
    response = anon_client.get("/products")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "count": 1,
        "countIsExact": True,
        "next": None,
        "previous": None,
        "nextCursor": None,
        "results": [body["results"][0]],
    }
    listed = body["results"][0]
    assert set(listed) == PRODUCT_FIELDS
    assert {k: v for k, v in listed.items() if k not in ("createdAt", "updatedAt")} == {
        "id": product.id,
        "name": "Mug",
        "description": "Big",
        "category": "Home",
        "sku": "MUG-1",
        "price": "19.99",
        "currency": "usd",
        "stock": 3,
        "isActive": True,
        "images": [],
    }
    assert listed["createdAt"].endswith("Z")
    assert listed["updatedAt"].endswith("Z")


def test_anyone_can_get_a_product(anon_client):
    product = make_product(price=Decimal("20"), stock=4)
    response = anon_client.get(f"/products/{product.id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PRODUCT_FIELDS
    assert (body["id"], body["price"], body["stock"], body["sku"]) == (product.id, "20.00", 4, None)


def test_staff_see_the_same_fields(staff_client):
    product = make_product()
    assert set(staff_client.get(f"/products/{product.id}").json()) == PRODUCT_FIELDS
    assert set(staff_client.get("/products").json()["results"][0]) == PRODUCT_FIELDS


@override_settings(STORE_CURRENCY="eur")
def test_currency_is_the_store_currency(anon_client):
    product = make_product()
    assert anon_client.get(f"/products/{product.id}").json()["currency"] == "eur"
    assert anon_client.get("/products").json()["results"][0]["currency"] == "eur"


def test_stock_is_on_hand_minus_reserved(anon_client):
    product = make_product(stock=10)
    reserve(product.id, 3)
    assert anon_client.get(f"/products/{product.id}").json()["stock"] == 7
    assert anon_client.get("/products").json()["results"][0]["stock"] == 7


@pytest.mark.parametrize("client_name", ["anon_client", "customer_client"])
def test_inactive_products_are_hidden_from_customers(request, client_name):
    client = request.getfixturevalue(client_name)
    active, inactive = make_product(), make_product()
    services.deactivate_product(product_id=inactive.id)
    assert result_ids(client.get("/products")) == [active.id]
    assert client.get("/products").json()["count"] == 1
    response = client.get(f"/products/{inactive.id}")
    assert response.status_code == 404
    assert first_error(response)["code"] == "not_found"
    # Asking for inactive products explicitly does not reveal them either.
    assert result_ids(client.get("/products?isActive=false")) == [active.id]


def test_staff_see_inactive_products_and_can_filter_on_them(staff_client):
    active, inactive = make_product(), make_product()
    services.deactivate_product(product_id=inactive.id)
    assert result_ids(staff_client.get("/products")) == [active.id, inactive.id]
    assert result_ids(staff_client.get("/products?isActive=false")) == [inactive.id]
    assert result_ids(staff_client.get("/products?isActive=true")) == [active.id]
    response = staff_client.get(f"/products/{inactive.id}")
    assert response.status_code == 200
    assert response.json()["isActive"] is False


@pytest.mark.parametrize("path", ["/products/999999", "/products/999999/", "/products/999999999999999999"])
def test_unknown_product_is_404(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 404
    assert first_error(response)["code"] == "not_found"


def test_an_invalid_token_is_401_even_on_a_public_read(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert anon_client.get("/products").status_code == 401


# Filters, ordering, pagination


def test_search_matches_name_description_and_sku_case_insensitively(anon_client):
    by_name = make_product(name="Blue Kettle")
    by_description = make_product(name="Teapot", description="Pairs well with a KETTLE")
    by_sku = make_product(name="Cup", sku="kettle-cup-9")
    make_product(name="Spoon", description="Stirs", sku="SP-1")
    assert result_ids(anon_client.get("/products?search=kettle")) == [by_name.id, by_description.id, by_sku.id]


def test_category_filter_is_case_insensitive_and_exact(anon_client):
    home = make_product(category="Home")
    make_product(category="Home Office")
    make_product(category="")
    assert result_ids(anon_client.get("/products?category=home")) == [home.id]


def test_category_filter_takes_the_name_or_the_slug_in_any_case(anon_client, staff_client):
    services.create_category(name="Home & Garden", slug="home-garden")
    services.create_category(name="Garden")
    garden = make_product(category="Home & Garden")
    plain = make_product(category="Garden")
    for query in ("Home %26 Garden", "HOME %26 garden", "home-garden", "Home-Garden"):
        assert result_ids(anon_client.get(f"/products?category={query}")) == [garden.id], query
        assert result_ids(staff_client.get(f"/products?category={query}")) == [garden.id], query
    assert result_ids(anon_client.get("/products?category=garden")) == [plain.id]
    assert result_ids(anon_client.get("/products?category=nowhere")) == []


def test_price_range_is_inclusive(anon_client):
    prices = ["4.99", "5.00", "7.50", "10.00", "10.01"]
    ids = [make_product(price=Decimal(price)).id for price in prices]
    assert result_ids(anon_client.get("/products?minPrice=5&maxPrice=10.00")) == ids[1:4]
    assert result_ids(anon_client.get("/products?minPrice=10")) == ids[3:]
    assert result_ids(anon_client.get("/products?maxPrice=5.00")) == ids[:2]


def test_in_stock_filter(anon_client):
    in_stock = make_product(stock=2)
    sold_out = make_product(stock=0)
    all_reserved = make_product(stock=1)
    reserve(all_reserved.id, 1)
    assert result_ids(anon_client.get("/products?inStock=true")) == [in_stock.id]
    assert result_ids(anon_client.get("/products?inStock=false")) == [sold_out.id, all_reserved.id]


def test_filters_combine(anon_client):
    match = make_product(name="Red Mug", category="Home", price=Decimal("8.00"), stock=1)
    make_product(name="Red Mug XL", category="Home", price=Decimal("18.00"), stock=1)
    make_product(name="Red Mug", category="Office", price=Decimal("8.00"), stock=1)
    make_product(name="Red Mug", category="Home", price=Decimal("8.00"), stock=0)
    query = "/products?search=red&category=HOME&maxPrice=10&inStock=true"
    assert result_ids(anon_client.get(query)) == [match.id]


def test_default_order_is_by_id(anon_client):
    ids = [make_product(price=Decimal(price)).id for price in ["3.00", "1.00", "2.00"]]
    assert result_ids(anon_client.get("/products")) == ids


@pytest.mark.parametrize(
    "ordering, expected",
    [
        ("price", ["cheap", "mid-a", "mid-b", "dear"]),
        ("-price", ["dear", "mid-a", "mid-b", "cheap"]),
        ("name", ["cheap", "dear", "mid-a", "mid-b"]),
        ("-name", ["mid-b", "mid-a", "dear", "cheap"]),
        ("createdAt", ["mid-a", "dear", "cheap", "mid-b"]),
        ("-createdAt", ["mid-b", "cheap", "dear", "mid-a"]),
    ],
)
def test_ordering(anon_client, ordering, expected):
    for name, price in [("mid-a", "5.00"), ("dear", "9.00"), ("cheap", "1.00"), ("mid-b", "5.00")]:
        make_product(name=name, price=Decimal(price))
    names = [p["name"] for p in anon_client.get(f"/products?ordering={ordering}").json()["results"]]
    assert names == expected


def test_equal_sort_keys_are_ordered_by_id_so_pages_never_repeat_or_skip(anon_client):
    ids = [make_product(price=Decimal("5.00"), name="Same").id for _ in range(7)]
    for ordering in ["price", "-price", "name", "-name"]:
        seen = []
        for page in (1, 2, 3):
            seen += result_ids(anon_client.get(f"/products?ordering={ordering}&pageSize=3&page={page}"))
        assert seen == ids


def test_pagination_links(anon_client):
    ids = [make_product().id for _ in range(5)]
    first = anon_client.get("/products?pageSize=2").json()
    assert first["count"] == 5
    assert [p["id"] for p in first["results"]] == ids[:2]
    assert first["previous"] is None
    assert "page=2" in first["next"] and "pageSize=2" in first["next"]
    second = anon_client.get(first["next"]).json()
    assert [p["id"] for p in second["results"]] == ids[2:4]
    assert second["previous"] is not None
    last = anon_client.get(second["next"]).json()
    assert [p["id"] for p in last["results"]] == ids[4:]
    assert last["next"] is None


def test_page_size_defaults_to_20_and_is_capped_at_100(anon_client):
    for _ in range(101):
        make_product()
    assert len(anon_client.get("/products").json()["results"]) == 20
    assert len(anon_client.get("/products?pageSize=1000").json()["results"]) == 100


@pytest.mark.parametrize("query", ["page=99", "page=abc", "page=0"])
def test_a_page_that_does_not_exist_is_404(anon_client, query):
    make_product()
    assert anon_client.get(f"/products?{query}").status_code == 404


@pytest.mark.parametrize(
    "query, attr",
    [
        ("minPrice=abc", "minPrice"),
        ("maxPrice=NaN", "maxPrice"),
        ("maxPrice=1e400", "maxPrice"),
        ("minPrice=Infinity", "minPrice"),
        ("ordering=foo", "ordering"),
        ("ordering=id", "ordering"),
        ("ordering=created_at", "ordering"),
        ("inStock=maybe", "inStock"),
        ("isActive=maybe", "isActive"),
        ("search=" + "x" * 201, "search"),
        ("search=nul%00byte", "search"),
        ("category=nul%00byte", "category"),
    ],
)
def test_invalid_filters_are_400_naming_the_parameter(staff_client, query, attr):
    response = staff_client.get(f"/products?{query}")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert first_error(response)["attr"] == attr


def test_blank_and_unknown_query_parameters_are_ignored(anon_client):
    product = make_product()
    assert result_ids(anon_client.get("/products?search=&minPrice=&ordering=&inStock=&colour=red")) == [product.id]


def test_list_runs_at_most_3_queries_whatever_the_page_size(anon_client, django_assert_max_num_queries):
    make_product()
    with django_assert_max_num_queries(3):
        assert len(result_ids(anon_client.get("/products"))) == 1
    for _ in range(99):
        make_product()
    with django_assert_max_num_queries(3):
        assert len(result_ids(anon_client.get("/products?pageSize=100"))) == 100


def test_staff_list_runs_at_most_3_queries(staff_client, django_assert_max_num_queries):
    for _ in range(30):
        make_product()
    with django_assert_max_num_queries(3):
        assert len(result_ids(staff_client.get("/products?pageSize=30&ordering=-price"))) == 30


def test_detail_runs_at_most_2_queries(anon_client, django_assert_max_num_queries):
    product = make_product()
    with django_assert_max_num_queries(2):
        assert anon_client.get(f"/products/{product.id}").status_code == 200


# Creating


def test_staff_create_a_product_with_its_stock(staff_client, staff):
    services.create_category(name="Home")
    body = {**NEW_PRODUCT, "description": "Warm light", "category": "home", "sku": "LAMP-1"}
    response = staff_client.post("/products", body, format="json")
    assert response.status_code == 201
    created = response.json()
    assert set(created) == PRODUCT_FIELDS
    assert {k: created[k] for k in ["name", "price", "stock", "description", "category", "sku", "isActive"]} == {
        "name": "Desk Lamp",
        "price": "39.00",
        "stock": 5,
        "description": "Warm light",
        "category": "Home",
        "sku": "LAMP-1",
        "isActive": True,
    }
    product = Product.objects.get(pk=created["id"])
    assert product.price == Decimal("39.00")
    assert available(product.id) == 5
    [movement] = inventory.list_stock_movements(product_id=product.id)
    assert (movement.reason, movement.on_hand_delta, movement.actor_id) == ("initial", 5, staff.id)


def test_a_category_not_in_the_managed_list_is_refused_and_not_created(staff_client):
    response = staff_client.post("/products", {**NEW_PRODUCT, "category": "Hmoe"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "unknown_category", "detail": UnknownCategory.default_message, "attr": "category"}
    ]
    assert not Product.objects.exists()
    assert not Category.objects.exists()


def test_staff_file_a_product_by_category_slug_and_take_it_out(staff_client):
    services.create_category(name="Home Office", slug="office")
    product = make_product()
    response = staff_client.patch(f"/products/{product.id}", {"category": "OFFICE"}, format="json")
    assert (response.status_code, response.json()["category"]) == (200, "Home Office")
    refused = staff_client.patch(f"/products/{product.id}", {"category": "Garage"}, format="json")
    assert refused.json()["errors"][0]["code"] == "unknown_category"
    assert staff_client.get(f"/products/{product.id}").json()["category"] == "Home Office"
    cleared = staff_client.patch(f"/products/{product.id}", {"category": ""}, format="json")
    assert cleared.json()["category"] == ""
    assert Product.objects.get(pk=product.id).category is None


def test_optional_fields_default_to_blank_and_no_sku(staff_client):
    created = staff_client.post("/products", NEW_PRODUCT, format="json").json()
    assert (created["description"], created["category"], created["sku"]) == ("", "", None)


def test_a_price_sent_as_a_number_is_refused(staff_client):
    """Money is a decimal string on the wire, as the schema says: a float would round on the way."""
    response = staff_client.post("/products", {**NEW_PRODUCT, "price": 19.99}, format="json")
    assert response.status_code == 400
    assert (first_error(response)["attr"], first_error(response)["code"]) == ("price", "invalid")


@pytest.mark.parametrize("path", ["/products", "/products/"])
def test_create_with_or_without_trailing_slash(staff_client, path):
    assert staff_client.post(path, NEW_PRODUCT, format="json").status_code == 201


INVALID_PRODUCTS = [
    ({"price": "1.00", "stock": 1}, "name"),
    ({**NEW_PRODUCT, "name": ""}, "name"),
    ({**NEW_PRODUCT, "name": "   "}, "name"),
    ({**NEW_PRODUCT, "name": None}, "name"),
    ({**NEW_PRODUCT, "name": "x" * 201}, "name"),
    ({"name": "A", "stock": 1}, "price"),
    ({**NEW_PRODUCT, "price": "-1.00"}, "price"),
    ({**NEW_PRODUCT, "price": "0"}, "price"),
    ({**NEW_PRODUCT, "price": 0}, "price"),
    ({**NEW_PRODUCT, "price": "abc"}, "price"),
    ({**NEW_PRODUCT, "price": "1.999"}, "price"),
    ({**NEW_PRODUCT, "price": "NaN"}, "price"),
    ({**NEW_PRODUCT, "price": "1000000000"}, "price"),
    ({**NEW_PRODUCT, "price": 1e20}, "price"),
    ({**NEW_PRODUCT, "price": None}, "price"),
    ({**NEW_PRODUCT, "price": [1]}, "price"),
    ({"name": "A", "price": "1.00"}, "stock"),
    ({**NEW_PRODUCT, "stock": -1}, "stock"),
    ({**NEW_PRODUCT, "stock": 1.5}, "stock"),
    ({**NEW_PRODUCT, "stock": "abc"}, "stock"),
    ({**NEW_PRODUCT, "stock": 10**12}, "stock"),
    ({**NEW_PRODUCT, "stock": None}, "stock"),
    ({**NEW_PRODUCT, "stock": True}, "stock"),
    ({**NEW_PRODUCT, "sku": "x" * 65}, "sku"),
    ({**NEW_PRODUCT, "category": "x" * 101}, "category"),
    ({**NEW_PRODUCT, "description": 5 * "x" * 10_000}, "description"),
    ({**NEW_PRODUCT, "name": "nul\x00byte"}, "name"),
    ({**NEW_PRODUCT, "isActive": False}, "isActive"),
    ({**NEW_PRODUCT, "id": 5}, "id"),
    ({**NEW_PRODUCT, "colour": "red"}, "colour"),
]


@pytest.mark.parametrize("body, attr", INVALID_PRODUCTS)
def test_create_validation(staff_client, body, attr):
    response = staff_client.post("/products", body, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert first_error(response)["attr"] == attr
    assert not Product.objects.exists()


@pytest.mark.parametrize("raw_body", ["[]", '"product"', "{not json", "null"])
def test_create_with_a_body_that_is_not_an_object_is_400(staff_client, raw_body):
    response = staff_client.post("/products", raw_body, content_type="application/json")
    assert response.status_code == 400
    assert not Product.objects.exists()


def test_duplicate_sku_is_400_on_sku(staff_client):
    make_product(sku="LAMP-1")
    response = staff_client.post("/products", {**NEW_PRODUCT, "sku": "LAMP-1"}, format="json")
    assert response.status_code == 400
    assert first_error(response)["attr"] == "sku"
    assert first_error(response)["code"] == "sku_taken"
    assert Product.objects.count() == 1


def test_sku_differing_only_in_case_is_another_sku(staff_client):
    make_product(sku="lamp-1")
    assert staff_client.post("/products", {**NEW_PRODUCT, "sku": "LAMP-1"}, format="json").status_code == 201


def test_blank_skus_do_not_collide(staff_client):
    for sku in ["", "", None]:
        response = staff_client.post("/products", {**NEW_PRODUCT, "sku": sku}, format="json")
        assert response.status_code == 201
        assert response.json()["sku"] is None


# Updating


def test_staff_patch_some_fields(staff_client):
    product = make_product(name="Old", price=Decimal("5.00"), category="Home", sku="S-1", stock=3)
    response = staff_client.patch(f"/products/{product.id}", {"name": "New", "price": "6.50"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["price"], body["category"], body["sku"], body["stock"]) == (
        "New",
        "6.50",
        "Home",
        "S-1",
        3,
    )
    stored = Product.objects.get(pk=product.id)
    assert (stored.name, stored.price) == ("New", Decimal("6.50"))


def test_patch_every_writable_field(staff_client):
    product = make_product()
    services.create_category(name="C")
    body = {
        "name": "N",
        "description": "D",
        "category": "C",
        "sku": "K",
        "price": "1.01",
        "stock": 0,
        "isActive": False,
    }
    response = staff_client.patch(f"/products/{product.id}", body, format="json")
    assert response.status_code == 200
    assert {key: response.json()[key] for key in body} == body


def test_patch_stock_sets_available_stock_and_writes_the_ledger(staff_client, staff):
    product = make_product(stock=10)
    reserve(product.id, 4)
    response = staff_client.patch(f"/products/{product.id}", {"stock": 25}, format="json")
    assert response.status_code == 200
    assert response.json()["stock"] == 25
    level = inventory.get_stock_level(product_id=product.id)
    assert (level.available, level.on_hand, level.reserved) == (25, 29, 4)
    movement = inventory.list_stock_movements(product_id=product.id)[0]
    assert (movement.reason, movement.on_hand_delta, movement.actor_id) == ("adjustment", 19, staff.id)


def test_patch_without_stock_leaves_stock_and_ledger_alone(staff_client):
    product = make_product(stock=10)
    staff_client.patch(f"/products/{product.id}", {"name": "Renamed"}, format="json")
    assert available(product.id) == 10
    assert len(inventory.list_stock_movements(product_id=product.id)) == 1


def test_empty_patch_changes_nothing(staff_client):
    product = make_product(name="Same")
    response = staff_client.patch(f"/products/{product.id}", {}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Same"


def test_patch_can_reactivate_a_product(staff_client, anon_client):
    product = make_product()
    services.deactivate_product(product_id=product.id)
    response = staff_client.patch(f"/products/{product.id}", {"isActive": True}, format="json")
    assert response.status_code == 200
    assert response.json()["isActive"] is True
    assert anon_client.get(f"/products/{product.id}").status_code == 200


def test_patch_can_clear_the_sku(staff_client):
    product = make_product(sku="S-1")
    assert staff_client.patch(f"/products/{product.id}", {"sku": None}, format="json").json()["sku"] is None


@pytest.mark.parametrize(
    "body, attr",
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"price": "0.00"}, "price"),
        ({"price": "-5"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": None}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": 1.5}, "stock"),
        ({"stock": "abc"}, "stock"),
        ({"stock": 10**12}, "stock"),
        ({"stock": None}, "stock"),
        ({"isActive": "maybe"}, "isActive"),
        ({"createdAt": "2020-01-01T00:00:00Z"}, "createdAt"),
        ({"currency": "eur"}, "currency"),
        ({"onHand": 5}, "onHand"),
    ],
)
def test_patch_validation(staff_client, body, attr):
    product = make_product(name="Same", price=Decimal("5.00"), stock=3)
    response = staff_client.patch(f"/products/{product.id}", {"name": "Changed", **body}, format="json")
    assert response.status_code == 400
    assert first_error(response)["attr"] == attr
    stored = Product.objects.get(pk=product.id)
    assert (stored.name, stored.price, available(product.id)) == ("Same", Decimal("5.00"), 3)


def test_patch_to_a_taken_sku_is_400_on_sku(staff_client):
    make_product(sku="TAKEN")
    product = make_product(sku="MINE")
    response = staff_client.patch(f"/products/{product.id}", {"sku": "TAKEN"}, format="json")
    assert response.status_code == 400
    assert (first_error(response)["attr"], first_error(response)["code"]) == ("sku", "sku_taken")
    assert Product.objects.get(pk=product.id).sku == "MINE"


def test_patch_unknown_product_is_404(staff_client):
    response = staff_client.patch("/products/999999", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert first_error(response)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/products/{id}", "/products/{id}/"])
def test_patch_with_or_without_trailing_slash(staff_client, path):
    product = make_product()
    response = staff_client.patch(path.format(id=product.id), {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


# Deleting


@pytest.mark.parametrize("path", ["/products/{id}", "/products/{id}/"])
def test_delete_is_a_soft_delete(staff_client, customer_client, anon_client, path):
    product = make_product(stock=4)
    response = staff_client.delete(path.format(id=product.id))
    assert response.status_code == 204
    assert response.content == b""
    stored = Product.objects.get(pk=product.id)
    assert stored.is_active is False
    assert available(product.id) == 4
    assert customer_client.get(f"/products/{product.id}").status_code == 404
    assert anon_client.get(f"/products/{product.id}").status_code == 404
    assert result_ids(anon_client.get("/products")) == []
    assert staff_client.get(f"/products/{product.id}").json()["isActive"] is False


def test_delete_twice_is_fine(staff_client):
    product = make_product()
    assert staff_client.delete(f"/products/{product.id}").status_code == 204
    assert staff_client.delete(f"/products/{product.id}").status_code == 204


def test_delete_unknown_product_is_404(staff_client):
    assert staff_client.delete("/products/999999").status_code == 404


# Permissions


def writes(product_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("post", "/products", NEW_PRODUCT),
        ("patch", f"/products/{product_id}", {"name": "Hacked", "stock": 0}),
        ("delete", f"/products/{product_id}", None),
    ]


def test_customers_cannot_write(customer_client):
    product = make_product(name="Safe", stock=3)
    for method, path, body in writes(product.id):
        response = getattr(customer_client, method)(path, body, format="json")
        assert response.status_code == 403, (method, response.content)
        assert first_error(response)["code"] == "permission_denied"
    stored = Product.objects.get()
    assert (stored.name, stored.is_active, available(product.id)) == ("Safe", True, 3)


def test_anonymous_clients_cannot_write(anon_client):
    product = make_product(name="Safe", stock=3)
    for method, path, body in writes(product.id):
        response = getattr(anon_client, method)(path, body, format="json")
        assert response.status_code == 401, (method, response.content)
        assert first_error(response)["code"] == "not_authenticated"
    stored = Product.objects.get()
    assert (stored.name, stored.is_active, available(product.id)) == ("Safe", True, 3)


@pytest.mark.parametrize("method, path", [("put", "/products/{id}"), ("delete", "/products"), ("patch", "/products")])
def test_unsupported_methods_are_405(staff_client, method, path):
    product = make_product()
    response = getattr(staff_client, method)(path.format(id=product.id), {}, format="json")
    assert response.status_code == 405


def test_schema_documents_the_product_endpoints(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    list_operation = schema["paths"]["/products"]["get"]
    parameters = {p["name"] for p in list_operation["parameters"]}
    assert parameters >= {"search", "category", "minPrice", "maxPrice", "inStock", "ordering", "page", "pageSize"}
    assert set(schema["paths"]["/products/{id}"]) >= {"get", "patch", "delete"}
    assert "400" in schema["paths"]["/products"]["post"]["responses"]
    product_schema = schema["components"]["schemas"]["Product"]["properties"]
    assert set(product_schema) == PRODUCT_FIELDS
    assert json.dumps(schema).count("sku_taken") >= 2
