"""The outbox delivers each event once per handler, however often it is delivered."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from outbox.models import HandledEvent, OutboxEvent
from payments import services
from tests.payments.conftest import ledger, place_order, stock

pytestmark = pytest.mark.django_db


def relay() -> str:
    out = StringIO()
    call_command("relay_events", stdout=out)
    return out.getvalue().strip()


def problems() -> list[str]:
    return [f"{p.kind} {p.subject}" for p in services.find_inconsistencies()]


def test_a_redelivered_event_changes_nothing(customer, product):
    order = place_order(customer, product, 2)
    services.pay_order(user_id=customer.id, order_id=order.id, token="tok_visa")
    assert stock(product) == (3, 0)  # delivered in process, on commit

    OutboxEvent.objects.update(delivered_at=None)  # as if every delivery had died before noting it was done
    relay()

    assert stock(product) == (3, 0)
    assert ledger(order.id) == [("reservation", 0, 2), ("sale", -2, -2)]
    assert problems() == []
    # orders' handler of payment.succeeded, inventory's of order.paid, and the emails of "placed" and "paid"
    assert HandledEvent.objects.count() == 4
    assert [message.subject for message in mail.outbox] == [f"Order #{order.id} received", f"Order #{order.id} is paid"]


@pytest.mark.django_db(transaction=True)
def test_publishing_outside_a_transaction_is_refused():
    from outbox import services as outbox

    with pytest.raises(RuntimeError):
        outbox.publish("order.paid", {"order_id": 1}, app_label="orders")
