"""The outbox delivers each event once per handler, however often it is delivered."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from cart import services as cart
from ecommerce.addresses import PostalAddress
from orders import services as orders
from outbox.models import HandledEvent, OutboxEvent
from payments import services
from tests.conftest import make_product
from tests.payments.conftest import ledger, place_order, stock

pytestmark = pytest.mark.django_db


def every_database(model, field: str) -> list:
    """A field of every row of an outbox table, in every database (each app's events are in its own)."""
    return sorted(value for alias in connections for value in model.objects.using(alias).values_list(field, flat=True))


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

    for alias in connections:  # as if every delivery had died before noting it was done
        OutboxEvent.objects.using(alias).update(delivered_at=None)
    relay()

    assert stock(product) == (3, 0)
    assert ledger(order.id) == [("reservation", 0, 2), ("sale", -2, -2)]
    assert problems() == []
    # Orders' handler of payment.succeeded, inventory's of order.paid, and the emails of "placed" and "paid" (the
    # cart's of order.placed, idempotent by itself, keeps no record).
    assert len(every_database(HandledEvent, "event_id")) == 4
    assert [message.subject for message in mail.outbox] == [f"Order #{order.id} received", f"Order #{order.id} is paid"]


@pytest.mark.django_db(transaction=True)
def test_publishing_outside_a_transaction_is_refused():
    from outbox import services as outbox

    with pytest.raises(RuntimeError):
        outbox.publish("order.paid", {"order_id": 1}, app_label="orders")


def test_purge_deletes_events_delivered_before_the_kept_days_and_their_handling(settings, customer, product):
    settings.OUTBOX_KEEP_DAYS = 7
    place_order(customer, product, 1)  # order.placed and its email's event, delivered now and recorded as handled
    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1), tick=False):
        kept = place_order(customer, product, 1)  # delivered within the last 7 days
        settings.OUTBOX_DELIVER_ON_COMMIT = False
        pending = place_order(customer, product, 1)  # not delivered: kept whatever its age
        call_command("purge_events", stdout=out)

    assert out.getvalue().strip() == "Delivered events deleted: 2"  # the first order's placed and its email
    kept_ids, pending_ids = [kept.id] * 2, [pending.id] * 2
    assert every_database(OutboxEvent, "payload__order_id") == sorted(kept_ids + pending_ids)
    assert len(every_database(HandledEvent, "event_id")) == 1  # the kept events' (the email's)


def test_the_events_of_one_change_are_marked_delivered_with_one_update(customer, product, count_queries):
    with count_queries() as checkout:  # the order placed and its email: delivered on commit, within the call
        place_order(customer, product, 1)
    marks = [sql for sql in checkout.statements if sql.startswith('UPDATE "outbox_outboxevent"')]
    assert len(marks) == 1, marks
    assert every_database(OutboxEvent, "delivered_at").count(None) == 0


def test_an_event_that_fails_stays_pending_and_the_others_of_its_change_are_delivered(settings, customer, product):
    settings.EMAIL_BACKEND = "tests.orders.test_emails.BrokenBackend"
    order = place_order(customer, product, 1)

    undelivered = [
        (row.type, row.leased_until, bool(row.last_error))
        for alias in connections
        for row in OutboxEvent.objects.using(alias).filter(delivered_at__isnull=True)
    ]
    assert undelivered == [("order.status_changed", None, True)]  # left to the relay, not leased
    assert cart.list_taken_lines(taken_before=timezone.now()) == []  # order.placed was applied and delivered

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    relay()
    assert [message.subject for message in mail.outbox] == [f"Order #{order.id} received"]
    assert every_database(OutboxEvent, "delivered_at").count(None) == 0


def test_an_order_email_event_without_its_order_has_it_read_for_the_same_email(
    customer, django_capture_on_commit_callbacks
):
    """Events published before they carried the order (or by a change that had not read it) still send it."""
    method = orders.list_shipping_options(subtotal=0)[1]
    address = PostalAddress.build(name="Ann Smith", line1="1 High St", city="Bath", postal_code="BA1 1AA", country="GB")
    cart.add_to_cart(user_id=customer.id, product_id=make_product(name="Blue Mug", price="12.50").id, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        orders.checkout(user_id=customer.id, shipping_address=address, shipping_method_id=method.id)
    [sent] = mail.outbox
    for alias in connections:  # as the event was written before, and never delivered
        for event in OutboxEvent.objects.using(alias).filter(type="order.status_changed"):
            del event.payload["email"]
            event.delivered_at = None
            event.save()
        HandledEvent.objects.using(alias).all().delete()

    call_command("relay_events")

    [_, again] = mail.outbox
    assert (again.subject, again.body, again.alternatives) == (sent.subject, sent.body, sent.alternatives)
    assert "Shipping (Express): 14.99 USD" in again.body and "BA1 1AA Bath" in again.body
