"""Staff roles in the admin: actions and forms need the same model permissions as the API."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from orders import services as orders
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def logged_in(client, user):
    client.force_login(get_user_model().objects.get(pk=user.id))
    return client


def test_order_actions_need_the_change_permission(client, paid):
    viewer = make_user(groups=("Order managers",))
    user = get_user_model().objects.get(pk=viewer.id)
    user.groups.clear()
    user.user_permissions.set(Permission.objects.filter(codename="view_order"))
    logged_in(client, viewer)
    page = client.get("/admin/orders/order/").content.decode()
    assert 'value="mark_shipped"' not in page
    client.post("/admin/orders/order/", {"action": "mark_shipped", "_selected_action": [paid.id]})
    assert orders.get_order(order_id=paid.id).status == "paid"


def test_an_order_manager_ships_from_the_list(client, order_manager, paid):
    logged_in(client, order_manager)
    client.post("/admin/orders/order/", {"action": "mark_shipped", "_selected_action": [paid.id]})
    assert orders.get_order(order_id=paid.id).status == "shipped"


def test_a_catalog_manager_sees_no_orders(client, catalog_manager, paid):
    logged_in(client, catalog_manager)
    assert client.get("/admin/orders/order/").status_code == 403
