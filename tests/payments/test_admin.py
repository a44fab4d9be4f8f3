"""The payments admin: staff can look, search and filter, and change nothing."""

import pytest
from django.contrib.auth import get_user_model

from payments import services
from payments.models import Payment, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser(email="admin@example.com", password="Adm1n-Passw0rd!", name="A")
    client.force_login(admin)
    return client


@pytest.fixture
def payment(order, customer):
    return services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")


def test_staff_find_payments_by_order_and_reference_and_filter_them(admin_client, payment):
    by_order = admin_client.get("/admin/payments/payment/", {"q": str(payment.order_id)})
    by_reference = admin_client.get("/admin/payments/payment/", {"q": payment.provider_reference})
    filtered = admin_client.get("/admin/payments/payment/", {"status__exact": "failed", "provider__exact": "dummy"})

    assert by_order.status_code == by_reference.status_code == filtered.status_code == 200
    assert by_order.context["cl"].result_count == by_reference.context["cl"].result_count == 1
    assert filtered.context["cl"].result_count == 0


def test_payments_are_read_only_and_show_no_card_token(admin_client, payment):
    detail = admin_client.get(f"/admin/payments/payment/{payment.id}/change/")

    assert detail.status_code == 200
    assert "token" not in detail.context["adminform"].form.fields
    assert payment.provider_reference in detail.content.decode()
    assert admin_client.get("/admin/payments/payment/add/").status_code == 403
    assert admin_client.post(f"/admin/payments/payment/{payment.id}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"/admin/payments/payment/{payment.id}/change/", {"status": "refunded"}).status_code == 403
    assert Payment.objects.get().status == "succeeded"


def test_webhook_events_are_listed_read_only(admin_client):
    event = WebhookEvent.objects.create(event_id="evt_1", type="charge.refunded")

    assert admin_client.get("/admin/payments/webhookevent/", {"q": "evt_1"}).context["cl"].result_count == 1
    assert admin_client.get("/admin/payments/webhookevent/add/").status_code == 403
    assert admin_client.post(f"/admin/payments/webhookevent/{event.id}/delete/", {"post": "yes"}).status_code == 403
