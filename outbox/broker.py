"""Events over RabbitMQ (kombu), for apps that run in separate processes (``EVENT_BROKER_URL``).

The relay (``relay_events``) publishes each pending event to a topic exchange, routed by its type, with
publisher confirms: the event counts as delivered only once the broker has it. Every app that subscribes
to that type has a durable queue of its own, declared by the publisher too, so an event waits there for
a consumer that is down. ``consume_events`` (one per process) applies each message to the handlers of
that process's own apps, which skip an event id they already applied, and acknowledges it only then:
delivery is at least once, and the effect once.
"""

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from kombu import Connection, Consumer, Exchange, Producer, Queue, binding

logger = logging.getLogger(__name__)


def _exchange() -> Exchange:
    return Exchange(f"{settings.EVENT_BROKER_PREFIX}.events", type="topic", durable=True)


def queue_for(app_label: str, event_types: Iterable[str]) -> Queue:
    """The durable queue of ``app_label``'s events, bound to the types it handles."""
    exchange = _exchange()
    bindings = [binding(exchange, routing_key=event_type) for event_type in sorted(event_types)]
    return Queue(f"{settings.EVENT_BROKER_PREFIX}.{app_label}", exchange=exchange, bindings=bindings, durable=True)


def connection() -> Connection:
    return Connection(
        settings.EVENT_BROKER_URL, connect_timeout=5, transport_options={"confirm_publish": True}, heartbeat=0
    )


def send(message: dict, queues: list[Queue]) -> None:
    """Publish one event (``message``: id, type, payload, source) and wait for the broker's confirm.

    ``queues`` (the queues of every app that handles its type) are declared first, so that the event is
    kept for each of them even if its consumer never ran yet.
    """
    with connection() as conn:
        producer = Producer(conn)
        producer.publish(
            message,
            exchange=_exchange(),
            routing_key=message["type"],
            declare=queues,
            delivery_mode=2,  # persistent: it survives a broker restart
            serializer="json",
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
        )


def consume(queues: dict[str, Queue], apply: Callable[[dict, str], None], *, idle_seconds: float | None = None) -> int:
    """Apply the messages of ``queues`` (app label -> its queue) until stopped, or until none came for
    ``idle_seconds``. Returns how many were applied. A message whose handler raised goes back on its queue
    (it is tried again); one applied is acknowledged."""
    applied = 0

    def on_message_for(app_label: str):
        def on_message(body, message):
            nonlocal applied
            try:
                apply(body, app_label)
            except Exception:
                logger.exception("Event %s (%s) failed for %s; back on the queue.", body["id"], body["type"], app_label)
                message.requeue()
                return
            message.ack()
            applied += 1

        return on_message

    with connection() as conn:
        consumers = [
            Consumer(conn, queues=[queue], callbacks=[on_message_for(app_label)], accept=["json"], prefetch_count=10)
            for app_label, queue in queues.items()
        ]
        for consumer in consumers:
            consumer.consume()
        while True:
            try:
                conn.drain_events(timeout=idle_seconds or 1)
            except TimeoutError:
                if idle_seconds is not None:
                    return applied
