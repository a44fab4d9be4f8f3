import pytest
from django.contrib.auth import get_user_model

from inventory import services as inventory
from orders import services as orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for_staff(client, staff):
    user = get_user_model().objects.get(pk=staff.id)
    user.is_superuser = True  # admin screens need model permissions; a superuser has them all
    user.save()
    client.force_login(user)
    return client


def run_action(client, action: str, order_id: int):
    return client.post("/admin/orders/order/", {"action": action, "_selected_action": [order_id]}, follow=True)


def test_order_list_shows_customer_emails_and_offers_the_three_actions(admin_client_for_staff, pending_order, customer):
    response = admin_client_for_staff.get("/admin/orders/order/")
    assert response.status_code == 200
    html = response.content.decode()
    assert customer.email in html
    for action in ("mark_shipped", "mark_delivered", "cancel"):
        assert f'value="{action}"' in html


def test_search_by_customer_email(admin_client_for_staff, pending_order, customer, other_customer):
    html = admin_client_for_staff.get("/admin/orders/order/", {"q": customer.email[:6]}).content.decode()
    assert f"/admin/orders/order/{pending_order.id}/change/" in html


def test_actions_go_through_the_status_machine(admin_client_for_staff, paid_order, product):
    run_action(admin_client_for_staff, "mark_delivered", paid_order.id)
    assert orders.get_order(order_id=paid_order.id).status == "paid"  # refused: not shipped yet
    run_action(admin_client_for_staff, "mark_shipped", paid_order.id)
    run_action(admin_client_for_staff, "mark_delivered", paid_order.id)
    assert orders.get_order(order_id=paid_order.id).status == "delivered"


def test_cancel_action_releases_stock(admin_client_for_staff, pending_order, product):
    response = run_action(admin_client_for_staff, "cancel", pending_order.id)
    assert "1 order(s) cancelled" in response.content.decode()
    assert orders.get_order(order_id=pending_order.id).status == "cancelled"
    assert inventory.get_stock_level(product_id=product.id).reserved == 0


def test_order_detail_page_shows_lines(admin_client_for_staff, pending_order):
    html = admin_client_for_staff.get(f"/admin/orders/order/{pending_order.id}/change/").content.decode()
    assert "Blue Mug" in html


def test_staff_edit_shipping_prices_in_the_admin_and_checkout_uses_them(admin_client_for_staff, customer_client):
    from orders.models import ShippingMethod

    standard = ShippingMethod.objects.get(name="Standard")
    assert admin_client_for_staff.get("/admin/orders/shippingmethod/").status_code == 200
    response = admin_client_for_staff.post(
        f"/admin/orders/shippingmethod/{standard.id}/change/",
        {
            "name": "Standard",
            "description": "2 days",
            "price": "6.50",
            "free_over": "",
            "is_active": "on",
            "position": 1,
        },
    )
    assert response.status_code == 302
    prices = {m["name"]: m["price"] for m in customer_client.get("/order/shipping-methods").json()}
    assert prices["Standard"] == "6.50"
    refused = admin_client_for_staff.post(
        f"/admin/orders/shippingmethod/{standard.id}/change/",
        {"name": "Standard", "price": "-1", "is_active": "on", "position": 1},
    )
    assert refused.status_code == 200 and "greater than or equal to 0" in refused.content.decode()
