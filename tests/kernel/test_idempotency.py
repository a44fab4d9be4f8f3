from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from cart import services as cart
from ecommerce.models import IdempotencyRecord
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_purge_forgets_records_older_than_a_day(capsys):
    IdempotencyRecord.objects.create(user_id=1, scope="checkout", key="old", fingerprint="x", completed=True)
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        IdempotencyRecord.objects.create(user_id=1, scope="checkout", key="new", fingerprint="x", completed=True)
        call_command("purge_idempotency_records")
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert "deleted: 1" in capsys.readouterr().out


def test_a_key_older_than_a_day_can_be_used_again(customer, customer_client, product):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    assert customer_client.post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        again = client_for(customer).post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 201
