"""The shop shows each product's picture: its thumbnail on the list and on the lines of an order, its detail
picture on the product page, and an empty-state picture (a static file) for a product that has none."""

import pytest
from django.contrib.staticfiles import finders

from catalog import services as catalog
from tests.catalog.test_images import add_picture
from tests.conftest import make_product
from tests.storefront.test_pages import add, html, place_order

pytestmark = pytest.mark.django_db
NO_PICTURE = "/static/storefront/no-image.svg"


def test_the_list_shows_thumbnails_and_the_empty_state(visitor):
    pictured = make_product(name="Pictured")
    make_product(name="Plain")
    add_picture(pictured.id, "A pictured thing")
    image = catalog.get_product_for_sale(product_id=pictured.id).images[0]
    html = visitor.get("/shop/").content.decode()
    assert f'src="{image.thumbnail_url}" alt="A pictured thing"' in html
    assert html.count(f'src="{NO_PICTURE}" alt="No picture yet"') == 1  # Plain's card
    assert finders.find("storefront/no-image.svg")
    assert visitor.get(image.thumbnail_url).status_code == 200


def test_the_product_page_shows_every_picture(visitor):
    product = make_product()
    for alt in ("front", "back", "side"):
        add_picture(product.id, alt)
    front, back, side = catalog.get_product_for_sale(product_id=product.id).images
    html = visitor.get(f"/shop/products/{product.id}/").content.decode()
    assert f'src="{front.detail_url}" alt="front"' in html
    assert f'href="{back.detail_url}"><img src="{back.thumbnail_url}" alt="back"' in html
    assert f'src="{side.thumbnail_url}" alt="side"' in html


def test_a_product_page_without_pictures_shows_the_empty_state(visitor, product):
    html = visitor.get(f"/shop/products/{product.id}/").content.decode()
    assert f'src="{NO_PICTURE}" alt="No picture yet"' in html


def test_pictures_add_no_query_to_the_list(visitor, django_assert_max_num_queries):
    for number in range(12):
        add_picture(make_product(name=f"Pictured {number}").id, size=(64, 48))
    with django_assert_max_num_queries(4):  # categories, count, page, stock
        assert visitor.get("/shop/").content.decode().count('src="/media/products/') == 12


# The order pages: each line with its product's thumbnail, in one query whatever the order's length


def test_the_order_pages_show_each_lines_picture_or_the_empty_state(shop):
    pictured, plain = make_product(name="Pictured"), make_product(name="Plain")
    add_picture(pictured.id, "A pictured thing")
    for product in (pictured, plain):
        add(shop, product)
    order_id = place_order(shop)
    catalog.deactivate_product(product_id=pictured.id)  # the order still shows what was bought
    (picture,) = catalog.get_product_images(product_ids=[pictured.id, plain.id])[pictured.id]
    for page in (f"/shop/orders/{order_id}/pay/", f"/shop/orders/{order_id}/"):
        body = html(shop.get(page))
        assert f'<img class="line-picture" src="{picture.thumbnail_url}" alt=""' in body, page
        assert body.count(f'<img class="line-picture" src="{NO_PICTURE}" alt=""') == 1, page
    assert shop.get(picture.thumbnail_url).status_code == 200


def test_the_order_page_costs_the_same_queries_whatever_its_length(shop, count_queries):
    def queries_of_an_order_with(lines: int) -> int:
        for number in range(lines):
            product = make_product(name=f"Line {lines}-{number}")
            add_picture(product.id, size=(64, 48))
            add(shop, product)
        order_id = place_order(shop)
        with count_queries() as queries:
            body = html(shop.get(f"/shop/orders/{order_id}/"))
        assert body.count('<img class="line-picture" src="/media/products/') == lines
        return len(queries)

    assert queries_of_an_order_with(1) == queries_of_an_order_with(5)
