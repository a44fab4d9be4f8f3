"""Events over the real RabbitMQ (outbox.broker): the relay publishes, each process consumes its own apps' events.

Needs RabbitMQ on EVENT_BROKER_URL (default amqp://guest:guest@127.0.0.1:5672//); skipped without it unless
REQUIRE_BROKER=1 (as in .ci/run). Each test has its own exchange and queues, deleted afterwards.
"""

import os
import socket
import uuid
from urllib.parse import urlparse

import pytest
from django.db import transaction

from outbox import services as outbox
from outbox.broker import connection, queue_for, send

BROKER_URL = os.environ.get("EVENT_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _broker_reachable() -> bool:
    address = urlparse(BROKER_URL)
    try:
        socket.create_connection((address.hostname, address.port or 5672), timeout=1).close()
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _broker_reachable() and os.environ.get("REQUIRE_BROKER") != "1", reason=f"no broker at {BROKER_URL}"
)

applied: list[tuple[str, dict]] = []


def record(event: outbox.Event) -> None:
    applied.append((event.id, event.payload))


@pytest.fixture
def broker(settings):
    """A broker of this test's own (exchange and queues named after a fresh prefix), events relayed, not in process."""
    settings.EVENT_BROKER_URL = BROKER_URL
    settings.EVENT_BROKER_PREFIX = f"test-{uuid.uuid4().hex[:10]}"
    settings.OUTBOX_DELIVER_ON_COMMIT = False  # as if each process died right after its commit
    event_type = f"test.happened.{uuid.uuid4().hex[:6]}"
    outbox.subscribe(event_type, record, app_label="inventory")
    applied.clear()
    yield event_type
    with connection() as conn:
        channel = conn.channel()
        for app_label in ("accounts", "inventory", "catalog", "cart", "orders", "payments"):  # consumers declared them
            channel.queue_delete(f"{settings.EVENT_BROKER_PREFIX}.{app_label}")
        channel.exchange_delete(f"{settings.EVENT_BROKER_PREFIX}.events")


def _publish(event_type: str, number: int) -> outbox.Event:
    with transaction.atomic():
        return outbox.publish(event_type, {"number": number}, app_label="inventory")


@pytest.mark.django_db
def test_a_consumer_that_was_down_catches_up_and_applies_each_event_once(broker):
    events = [_publish(broker, number) for number in range(3)]
    assert outbox.deliver_pending() == {"delivered": 3, "failed": 0, "busy": 0}  # the broker confirmed each
    assert outbox.list_pending_events() == []
    assert applied == []  # no consumer ran yet: the events wait on the app's queue

    assert outbox.consume_events(idle_seconds=1) == 3
    assert applied == [(event.id, {"number": number}) for number, event in enumerate(events)]

    # At least once: the same event again (a relay that ran twice, a redelivery) changes nothing.
    with transaction.atomic():
        again = _publish(broker, 99)
    outbox.deliver_pending()
    send(
        {"id": again.id, "type": again.type, "payload": again.payload, "source": again.source},
        [queue_for("inventory", [broker])],
    )
    assert outbox.consume_events(idle_seconds=1) == 2
    assert [payload["number"] for _, payload in applied] == [0, 1, 2, 99]


@pytest.mark.django_db
def test_an_event_stays_pending_while_the_broker_cannot_be_reached(broker, settings):
    event = _publish(broker, 1)
    settings.EVENT_BROKER_URL = "amqp://guest:guest@127.0.0.1:9//"
    assert outbox.deliver_pending()["failed"] == 1
    assert [pending.id for pending in outbox.list_pending_events()] == [event.id]

    settings.EVENT_BROKER_URL = BROKER_URL
    assert outbox.deliver_pending()["delivered"] == 1
    assert outbox.consume_events(idle_seconds=1) == 1
    assert applied == [(event.id, {"number": 1})]
