"""Order emails: placed, paid, shipped, cancelled and refunded, sent after the change commits, each exactly once,
driven by the ``order.status_changed`` events of the outbox."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from cart import services as cart
from catalog import services as catalog
from ecommerce.addresses import PostalAddress
from orders import notifications
from orders import services as orders
from outbox import services as outbox
from tests.catalog.test_images import add_picture
from tests.conftest import client_for, make_product, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a block's on-commit callbacks as a real commit would (tests run inside one transaction)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def subjects() -> list[str]:
    return [message.subject for message in mail.outbox]


def undelivered_status_changes() -> list[dict]:
    return [event.payload for event in outbox.list_pending_events() if event.type == notifications.STATUS_CHANGED]


def place(customer, client, committed, **body):
    cart.add_to_cart(user_id=customer.id, product_id=make_product(name="Blue Mug", price="12.50").id, quantity=2)
    with committed():
        response = client.post("/order/checkout", body, format="json")
    assert response.status_code == 201
    return response.json()


def test_each_status_change_sends_one_email_in_text_and_html(customer, customer_client, staff, committed):
    order = place(customer, customer_client, committed)
    with committed():
        customer_client.post("/payment", {"orderId": order["id"], "token": "tok_visa"}, format="json")
    with committed():
        orders.change_order_status(order_id=order["id"], status="shipped", actor_id=staff.id, reason="DHL 123")
    with committed():
        orders.change_order_status(order_id=order["id"], status="delivered", actor_id=staff.id)
    n = order["id"]
    assert subjects() == [f"Order #{n} received", f"Order #{n} is paid", f"Order #{n} is on its way"]
    assert all(message.to == [customer.email] for message in mail.outbox)
    shipped = mail.outbox[2]
    assert "Good news: order" in shipped.body and "Note: DHL 123" in shipped.body
    assert "2 x Blue Mug: 25.00 USD" in shipped.body and "Total: 25.00 USD" in shipped.body
    [(html, kind)] = shipped.alternatives
    assert kind == "text/html" and "<h1" in html and "2 \u00d7 Blue Mug" in html


def test_a_cancellation_and_a_refund_are_told(customer, customer_client, staff, committed):
    first = place(customer, customer_client, committed)
    with committed():
        customer_client.post(f"/order/{first['id']}/cancel", {}, format="json")
    second = place(customer, customer_client, committed)
    with committed():
        customer_client.post("/payment", {"orderId": second["id"], "token": "tok_visa"}, format="json")
    with committed():
        orders.cancel_order(order_id=second["id"], user_id=staff.id, is_staff=True, reason="Out of print")
    assert subjects()[1] == f"Order #{first['id']} is cancelled"
    assert subjects()[-1] == f"Order #{second['id']} is refunded"
    assert "Note: Out of print" in mail.outbox[-1].body


def test_the_email_shows_delivery_and_local_times(customer, customer_client, committed, settings):
    settings.STORE_TIME_ZONE = "Europe/Berlin"
    method = orders.list_shipping_options(subtotal=0)[1]  # Express
    address = PostalAddress.build(name="Ann Smith", line1="1 High St", city="Bath", postal_code="BA1 1AA", country="GB")
    cart.add_to_cart(user_id=customer.id, product_id=make_product(name="Blue Mug", price="12.50").id, quantity=2)
    with time_machine.travel(datetime(2026, 6, 1, 10, 0, tzinfo=UTC), tick=False), committed():
        order = orders.checkout(user_id=customer.id, shipping_address=address, shipping_method_id=method.id)
    body = mail.outbox[0].body
    assert f"Order #{order.id} (1 Jun 2026, 12:00 CEST)" in body
    assert "until 1 Jun 2026, 12:30 CEST" in body
    assert "Shipping (Express): 14.99 USD" in body and "Total: 39.99 USD" in body
    assert "BA1 1AA Bath" in body


def test_the_placed_email_reads_only_its_customer(customer, customer_client, count_queries):
    """The event carries what the email shows (lines, totals, delivery): its order is not read back for it."""
    cart.add_to_cart(user_id=customer.id, product_id=make_product(name="Blue Mug", price="12.50").id, quantity=2)
    with count_queries() as checkout:  # the email is sent once the placing commits, within the request
        assert customer_client.post("/order/checkout", {}, format="json").status_code == 201
    reads = [sql for sql in checkout.statements if sql.startswith("SELECT")]
    assert not [sql for sql in reads if 'FROM "orders_statuschange"' in sql or 'FROM "orders_orderline"' in sql]
    assert len([sql for sql in reads if 'FROM "accounts_user"' in sql]) == 1
    assert "2 x Blue Mug: 25.00 USD" in mail.outbox[0].body


def test_nothing_is_sent_when_the_change_rolls_back(customer, customer_client, product, committed):
    with committed():
        response = customer_client.post("/order/checkout", {}, format="json")  # empty cart: 409, nothing commits
    assert response.status_code == 409
    assert mail.outbox == [] and undelivered_status_changes() == []


def test_the_expiry_job_tells_the_customer(customer, customer_client, committed):
    order = place(customer, customer_client, committed)
    with time_machine.travel(timezone.now() + timedelta(hours=1)), committed():
        call_command("release_expired_reservations")
    assert subjects()[-1] == f"Order #{order['id']} is cancelled"
    assert "Note: Not paid before its reservation expired." in mail.outbox[-1].body


def test_a_failed_delivery_is_retried_by_the_relay_and_never_sent_twice(customer, customer_client, committed, settings):
    settings.EMAIL_BACKEND = "tests.orders.test_emails.BrokenBackend"
    order = place(customer, customer_client, committed)
    assert mail.outbox == []
    assert [(change["order_id"], change["status"]) for change in undelivered_status_changes()] == [
        (order["id"], "pending")
    ]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("relay_events")
    call_command("relay_events")
    assert subjects() == [f"Order #{order['id']} received"]
    assert undelivered_status_changes() == []


def test_each_customer_gets_only_their_own_emails(customer, customer_client, committed):
    other = make_user(name="Otto")
    place(customer, customer_client, committed)
    place(other, client_for(other), committed)
    assert [m.to for m in mail.outbox] == [[customer.email], [other.email]]


class BrokenBackend:
    """A mail server that is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_the_html_email_shows_each_lines_picture_on_the_public_url(customer, customer_client, committed, settings):
    settings.PUBLIC_URL = "https://shop.example.com"
    pictured, plain = make_product(name="Blue Mug"), make_product(name="Plain Mug")
    add_picture(pictured.id)
    for product in (pictured, plain):
        cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    with committed():
        assert customer_client.post("/order/checkout", {}, format="json").status_code == 201
    (picture,) = catalog.get_product_images(product_ids=[pictured.id])[pictured.id]
    [(html, _)] = mail.outbox[0].alternatives
    assert f'<img src="https://shop.example.com{picture.thumbnail_url}" alt=""' in html
    assert html.count("<img") == 1  # none for the product without a picture
    assert "/media/" not in mail.outbox[0].body  # the text part has no pictures


def test_without_the_shops_address_the_email_has_no_picture(customer, customer_client, committed, settings):
    settings.PUBLIC_URL = ""
    product = make_product(name="Blue Mug")
    add_picture(product.id)
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    with committed():
        assert customer_client.post("/order/checkout", {}, format="json").status_code == 201
    [(html, _)] = mail.outbox[0].alternatives
    assert "<img" not in html and "Blue Mug" in html
