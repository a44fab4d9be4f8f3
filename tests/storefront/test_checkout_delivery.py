"""The shop's checkout step: a delivery address (typed in or saved) and a shipping method, before payment."""

from decimal import Decimal

import pytest

from accounts import services as accounts
from cart import services as cart
from ecommerce.addresses import PostalAddress
from orders import services as orders
from tests.conftest import make_product
from tests.storefront.test_pages import add, delivery, html, place_order, shopper_id

pytestmark = pytest.mark.django_db


def test_the_checkout_page_offers_the_methods_priced_for_the_cart(shop):
    add(shop, make_product(name="Blue Mug", price="20.00"))
    page = html(shop.get("/shop/checkout/"))
    assert "Standard (3-5 working days): $4.99" in page and "Express (Next working day): $14.99" in page
    assert "Standard is free for orders of $50.00 or more." in page
    assert '<label for="id_line1">Address line 1:</label>' in page
    add(shop, make_product(price="40.00"))
    assert "Standard (3-5 working days): free" in html(shop.get("/shop/checkout/"))


def test_the_order_ships_to_the_address_by_the_method_and_the_page_shows_both(shop):
    add(shop, make_product(name="Blue Mug", price="20.00"))
    express = next(option for option in orders.list_shipping_options(subtotal=Decimal("0")) if option.name == "Express")
    order_id = place_order(shop, shipping_method=express.id, line2="Flat 3", phone="+1 555 0100")
    order = orders.get_order(order_id=order_id, user_id=shopper_id(shop))
    assert (str(order.shipping), str(order.total), order.shipping_method.name) == ("14.99", "34.99", "Express")
    assert order.shipping_address.line2 == "Flat 3"
    page = html(shop.get(f"/shop/orders/{order_id}/"))
    assert '<td class="num" id="order-shipping">$14.99</td>' in page
    assert '<td class="num" id="order-total">$34.99</td>' in page
    assert "1 Main Street<br>Flat 3<br>12345 Springfield<br>US<br>+1 555 0100" in page
    assert "Pay $34.99" in html(shop.get(f"/shop/orders/{order_id}/pay/"))
    assert accounts.list_addresses(user_id=shopper_id(shop)) == []  # not asked to save it


def test_a_new_address_can_be_saved_and_chosen_next_time(shop):
    add(shop, make_product())
    place_order(shop, save_address="on")
    [saved] = accounts.list_addresses(user_id=shopper_id(shop))
    assert saved.address.city == "Springfield"
    add(shop, make_product())
    page = html(shop.get("/shop/checkout/"))
    assert f'id="address-{saved.id}" value="{saved.id}"' in page
    order_id = place_order(shop, address_choice=str(saved.id), name="", city="")  # the typed fields are ignored
    assert orders.get_order(order_id=order_id).shipping_address == saved.address


def test_someone_elses_saved_address_cannot_be_chosen(shop, other_shop):
    theirs = accounts.add_address(
        user_id=shopper_id(other_shop),
        address=PostalAddress.build(name="O", line1="2 Elm St", city="Paris", postal_code="75001", country="FR"),
    )
    add(shop, make_product())
    response = shop.post("/shop/checkout/", delivery(address_choice=str(theirs.id)))
    assert response.status_code == 400 and "Select a valid choice" in html(response)
    assert orders.list_orders(user_id=shopper_id(shop)).count == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"country": "XX"}, "Select a valid choice. XX is not one of the available choices."),
        ({"country": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
        ({"line1": "x" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
        ({"postal_code": "<script>"}, "A postal code has letters, digits, spaces and hyphens."),
        ({"phone": "call me maybe"}, "A phone number has digits, spaces and + ( ) . / -."),
        ({"city": "Spring\x00field"}, "Null characters are not allowed."),
        ({"city": "Spring\u200bfield"}, "Remove the control or invisible characters."),
        ({"shipping_method": "999999"}, "Select a valid choice. 999999 is not one of the available choices."),
        ({"shipping_method": "express"}, "Select a valid choice."),
        ({"address_choice": "12abc"}, "Select a valid choice."),
    ],
)
def test_bad_delivery_details_show_the_form_again_and_place_nothing(shop, changes, message):
    product = make_product(stock=3)
    add(shop, product, 2)
    response = shop.post("/shop/checkout/", delivery(**changes))
    assert response.status_code == 400
    assert message in html(response).replace("&#x27;", "'")
    assert orders.list_orders(user_id=shopper_id(shop)).count == 0
    assert cart.get_cart(user_id=shopper_id(shop)).total_quantity == 2


def test_unicode_addresses_are_welcome(shop):
    add(shop, make_product())
    order_id = place_order(shop, name="Zoë Ångström", city="Malmö", country="SE", postal_code="211 20")
    assert orders.get_order(order_id=order_id).shipping_address.name == "Zoë Ångström"
    assert "Zoë Ångström" in html(shop.get(f"/shop/orders/{order_id}/"))
