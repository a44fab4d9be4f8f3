from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from cart import services as cart
from ecommerce.models import IdempotencyRecord
from tests.conftest import WorkerDied, client_for, on_every_database, worker_dies_at

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


# --- Crashes and outages ---------------------------------------------------------------------------


def checkout(client, key: str):
    return client.post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_key_held_by_a_dead_worker_answers_409_with_retry_after_then_runs_again(customer, customer_client, product):
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=2)
    with on_every_database(worker_dies_at('INSERT INTO "orders_order"')), pytest.raises(WorkerDied):
        checkout(customer_client, "crashed")
    claim = IdempotencyRecord.objects.get(key="crashed")
    assert not claim.completed

    blocked = checkout(client_for(customer), "crashed")
    assert blocked.status_code == 409
    assert blocked.json()["errors"][0]["code"] == "request_in_progress"
    assert 1 <= int(blocked["Retry-After"]) <= settings.IDEMPOTENCY_LEASE_SECONDS

    with time_machine.travel(claim.locked_until + timedelta(seconds=1), tick=False):
        retried = checkout(client_for(customer), "crashed")
        replayed = checkout(client_for(customer), "crashed")
    assert retried.status_code == 201
    assert (replayed.status_code, replayed.json()) == (200, retried.json())
    assert client_for(customer).get("/order").json()["count"] == 1
    assert [item["quantity"] for item in retried.json()["items"]] == [2]
