"""The admin as staff use it: the order workspace, the product list's stock editing, the dashboard."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from inventory import services as inventory
from orders import services as orders
from tests.catalog.test_admin import NO_PICTURES
from tests.conftest import make_product, make_user

pytestmark = pytest.mark.django_db


def logged_in(client, user):
    client.force_login(get_user_model().objects.get(pk=user.id))
    return client


@pytest.fixture
def superuser_client(client, staff):
    return logged_in(client, staff)


def order_page(client, order_id) -> str:
    response = client.get(f"/admin/orders/order/{order_id}/change/")
    assert response.status_code == 200
    return response.content.decode()


# --- The order workspace ------------------------------------------------------------------------------


def test_order_page_shows_customer_lines_totals_and_payments(client, order_manager, paid, customer):
    html = order_page(logged_in(client, order_manager), paid.id)
    assert customer.name in html and customer.email in html
    assert f"/admin/accounts/user/{customer.id}/change/" in html
    assert "Blue Mug" in html and "19.99" in html
    assert 'id="order-payments"' in html and "succeeded" in html and "dummy" in html
    assert "Holds its stock until" not in html  # only a pending order holds stock
    assert 'id="order-timeline"' in html and "payment_provider" in html


def test_order_page_has_no_save_button_and_offers_only_allowed_transitions(client, order_manager, paid, pending):
    client = logged_in(client, order_manager)
    html = order_page(client, paid.id)
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert 'data-transition="shipped"' in html and 'data-transition="refunded"' in html
    assert 'data-transition="delivered"' not in html and 'data-transition="cancelled"' not in html
    pending_html = order_page(client, pending.id)
    assert 'data-transition="cancelled"' in pending_html and 'data-transition="shipped"' not in pending_html
    assert "Holds its stock until" in pending_html


def test_ship_from_the_page_asks_first_then_goes_through_the_service(client, order_manager, paid):
    client = logged_in(client, order_manager)
    url = f"/admin/orders/order/{paid.id}/transition/shipped/"
    confirmation = client.get(url)
    assert "Mark order" in confirmation.content.decode()
    assert orders.get_order(order_id=paid.id).status == "paid"  # asking changes nothing
    response = client.post(url, follow=True)
    assert orders.get_order(order_id=paid.id).status == "shipped"
    assert f"Order {paid.id} marked shipped." in response.content.decode()


def test_refund_from_the_page_refunds_and_returns_stock(client, order_manager, paid, product):
    logged_in(client, order_manager).post(f"/admin/orders/order/{paid.id}/transition/refunded/")
    assert orders.get_order(order_id=paid.id).status == "refunded"
    assert inventory.get_stock_level(product_id=product.id).available == 5


def test_a_refused_transition_says_why(client, order_manager, pending):
    response = logged_in(client, order_manager).post(
        f"/admin/orders/order/{pending.id}/transition/delivered/", follow=True
    )
    assert f"Order {pending.id} was not changed" in response.content.decode()
    assert orders.get_order(order_id=pending.id).status == "pending"


def test_transitions_need_the_change_permission(client, paid):
    viewer = make_user(groups=("Order managers",))
    user = get_user_model().objects.get(pk=viewer.id)
    user.groups.clear()
    user.user_permissions.set(Permission.objects.filter(codename="view_order"))
    client = logged_in(client, viewer)
    assert "data-transition" not in order_page(client, paid.id)
    assert client.post(f"/admin/orders/order/{paid.id}/transition/shipped/").status_code == 403
    assert orders.get_order(order_id=paid.id).status == "paid"


def test_order_list_shows_customer_and_total_and_finds_by_id_or_email(client, order_manager, paid, pending, customer):
    client = logged_in(client, order_manager)
    html = client.get("/admin/orders/order/").content.decode()
    assert customer.name in html and customer.email in html and "19.99 USD" in html
    by_number = client.get("/admin/orders/order/", {"q": f"#{paid.id}"}).content.decode()
    assert f"/admin/orders/order/{paid.id}/change/" in by_number
    assert f"/admin/orders/order/{pending.id}/change/" not in by_number
    by_email = client.get("/admin/orders/order/", {"q": customer.email.split("@")[0]}).content.decode()
    assert f"/admin/orders/order/{paid.id}/change/" in by_email
    filtered = client.get("/admin/orders/order/", {"status__exact": "shipped"}).content.decode()
    assert f"/admin/orders/order/{paid.id}/change/" not in filtered


# --- Products and stock --------------------------------------------------------------------------------


def test_stock_set_from_the_list_is_in_the_ledger_with_the_user_and_reason(client, catalog_manager, product):
    client = logged_in(client, catalog_manager)
    response = client.post(
        "/admin/catalog/product/stock/",
        {"product": product.id, f"stock-{product.id}": 12, f"shown-{product.id}": 5, f"note-{product.id}": "Delivery"},
        follow=True,
    )
    assert "12 available now" in response.content.decode()
    assert inventory.get_stock_level(product_id=product.id).available == 12
    movement = inventory.list_stock_movements(product_id=product.id, limit=1)[0]
    assert (movement.on_hand_delta, movement.actor_id, movement.note) == (7, catalog_manager.id, "Delivery")


def test_stock_from_the_list_keeps_sales_made_meanwhile(client, catalog_manager, product, customer):
    from cart import services as cart

    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=2)
    orders.checkout(user_id=customer.id)  # 2 of the 5 shown are reserved after the page was drawn
    logged_in(client, catalog_manager).post(
        "/admin/catalog/product/stock/", {"product": product.id, f"stock-{product.id}": 8, f"shown-{product.id}": 5}
    )
    assert inventory.get_stock_level(product_id=product.id).available == 6  # +3, as typed


def test_stock_from_the_list_cannot_go_below_zero(client, catalog_manager, product):
    response = logged_in(client, catalog_manager).post(
        "/admin/catalog/product/stock/",
        {"product": product.id, f"stock-{product.id}": 0, f"shown-{product.id}": 50},
        follow=True,
    )
    assert "cannot go below 0" in response.content.decode()
    assert inventory.get_stock_level(product_id=product.id).available == 5


def test_product_page_stock_change_records_the_reason_and_shows_the_movements(client, catalog_manager, product):
    client = logged_in(client, catalog_manager)
    form = client.get(f"/admin/catalog/product/{product.id}/change/").context["adminform"].form
    data = {
        **{k: v for k, v in form.initial.items() if v is not None},
        "is_active": "on",
        "_save": "Save",
        **NO_PICTURES,
    }
    data.update(stock=9, **{"initial-stock": 5}, stock_note="Stock count")
    assert client.post(f"/admin/catalog/product/{product.id}/change/", data).status_code == 302
    movement = inventory.list_stock_movements(product_id=product.id, limit=1)[0]
    assert (movement.on_hand_delta, movement.actor_id, movement.note) == (4, catalog_manager.id, "Stock count")
    html = client.get(f"/admin/catalog/product/{product.id}/change/").content.decode()
    assert 'id="stock-movements"' in html and "Stock count" in html


def test_low_stock_filter(client, catalog_manager):
    low, plenty = make_product(name="Nearly gone", stock=2), make_product(name="Plenty", stock=50)
    html = logged_in(client, catalog_manager).get("/admin/catalog/product/", {"stock": "low"}).content.decode()
    assert f"/admin/catalog/product/{low.id}/change/" in html
    assert f"/admin/catalog/product/{plenty.id}/change/" not in html


def test_bulk_deactivate_then_activate(client, catalog_manager):
    first, second = make_product(), make_product()
    client = logged_in(client, catalog_manager)
    selected = {"_selected_action": [first.id, second.id]}
    client.post("/admin/catalog/product/", {"action": "deactivate_selected", **selected})
    assert not any(p.is_active for p in _products(first.id, second.id))
    client.post("/admin/catalog/product/", {"action": "activate_selected", **selected})
    assert all(p.is_active for p in _products(first.id, second.id))


def _products(*ids):
    from catalog import services as catalog

    return catalog.get_products(product_ids=ids).values()


def test_an_order_manager_cannot_change_a_price_in_the_admin(client, order_manager, product):
    client = logged_in(client, order_manager)
    assert client.get(f"/admin/catalog/product/{product.id}/change/").status_code == 403
    response = client.post(f"/admin/catalog/product/{product.id}/change/", {"price": "1.00", "name": "x"})
    assert response.status_code == 403
    assert client.post("/admin/catalog/product/stock/", {"product": product.id}).status_code == 403


# --- The site -------------------------------------------------------------------------------------------


def test_the_admin_is_titled_with_the_shop_name(superuser_client, settings):
    settings.ADMIN_SITE_HEADER = "Blue Mug Co."
    html = superuser_client.get("/admin/").content.decode()
    assert "Blue Mug Co." in html and "Django administration" not in html


def test_the_index_shows_todays_orders_revenue_and_low_stock(superuser_client, paid, pending):
    make_product(name="Last Teapot", stock=1)
    html = superuser_client.get("/admin/").content.decode()
    assert 'id="orders-today"' in html and 'id="revenue-today"' in html
    assert "19.99 USD" in html  # the paid order; the pending one is not revenue
    assert "Last Teapot" in html


def test_internal_tables_are_for_superusers_only(client, staff):
    everything = make_user(groups=("Catalog managers", "Order managers"))
    user = get_user_model().objects.get(pk=everything.id)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="token_blacklist"))
    client = logged_in(client, everything)
    assert "token_blacklist" not in client.get("/admin/").content.decode()
    assert client.get("/admin/token_blacklist/outstandingtoken/").status_code == 403
    assert logged_in(client, staff).get("/admin/token_blacklist/outstandingtoken/").status_code == 200
