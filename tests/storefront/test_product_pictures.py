"""The shop shows each product's picture: its thumbnail on the list, its detail picture on the product page, and
an empty-state picture (a static file) for a product that has none."""

import pytest
from django.contrib.staticfiles import finders

from catalog import services as catalog
from tests.catalog.test_images import add_picture
from tests.conftest import make_product

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
