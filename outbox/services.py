"""Events between apps: a transactional outbox. The public interface of this app.

An app that changes its rows and must cause a change in another app publishes an event in the same
transaction (``publish``), so the event exists if and only if the change committed. The event is
delivered in process as soon as that transaction commits, and again by the relay
(``manage.py relay_events``) if the process died first or a handler failed: at least once. Each handler
runs in a transaction of its own app's database, together with a row saying it handled that event id,
so a second delivery changes nothing. Apps subscribe their handlers when they start (``AppConfig.ready``).

Delivery takes a lease on the event (a conditional UPDATE; the process that publishes an event takes it in
the event's INSERT), so concurrent deliverers (the process that published it, several relays) do not run it
at the same time; an expired lease means its deliverer died, and the next one takes over. The events of one
``publish_many`` are marked delivered together once all have been handled (one UPDATE).
"""

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from ecommerce import remote
from ecommerce.db import on_commit
from outbox import broker
from outbox.models import HandledEvent, OutboxEvent

__all__ = [
    "Event",
    "apply_event",
    "consume_events",
    "database_of",
    "deliver_pending",
    "list_pending_events",
    "publish",
    "publish_many",
    "purge_delivered",
    "subscribe",
]

logger = logging.getLogger(__name__)


def _lease() -> timedelta:
    """How long a deliverer holds an event before another may take it over (``OUTBOX_LEASE_SECONDS``)."""
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


@dataclass(frozen=True)
class Event:
    id: str
    type: str  # e.g. "payment.succeeded"
    payload: dict[str, Any]
    source: str  # the database alias it was written to


@dataclass(frozen=True)
class _Handler:
    name: str
    app_label: str
    function: Callable[[Event], None]
    atomic: bool
    idempotent: bool


_handlers: dict[str, list[_Handler]] = {}


def database_of(app_label: str) -> str:
    """The database alias that holds an app's rows (and its outbox)."""
    return router.db_for_write(OutboxEvent, app_label=app_label) or "default"


def subscribe(
    event_type: str,
    handler: Callable[[Event], None],
    *,
    app_label: str,
    atomic: bool = True,
    idempotent: bool = False,
) -> None:
    """Have ``handler`` applied once to every event of ``event_type``; it changes rows of ``app_label`` only.

    With ``atomic`` (the default) it runs in one transaction of that app's database, with the record that it
    handled the event. Without, it may call out of the process (it must then be idempotent by itself), and the
    record is written after it returns. ``idempotent``: a repeat of it changes nothing (one statement that
    deletes, say), so it simply runs on every delivery, with no transaction and no record.
    """
    name = f"{app_label}:{handler.__module__}.{handler.__qualname__}"
    handlers = _handlers.setdefault(event_type, [])
    if all(existing.name != name for existing in handlers):
        handlers.append(
            _Handler(name=name, app_label=app_label, function=handler, atomic=atomic, idempotent=idempotent)
        )


def publish(event_type: str, payload: dict[str, Any], *, app_label: str) -> Event:
    """Write an event in the current transaction of ``app_label``'s database; it is delivered after the commit."""
    return publish_many([(event_type, payload)], app_label=app_label)[0]


def publish_many(events: Sequence[tuple[str, dict[str, Any]]], *, app_label: str) -> list[Event]:
    """``publish`` several events (type, payload) of one change, written with one INSERT; delivered in this order."""
    using = database_of(app_label)
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError("Publish an event inside the transaction of the change that causes it.")
    if not getattr(settings, "OUTBOX_DELIVER_ON_COMMIT", True):
        rows = OutboxEvent.objects.using(using).bulk_create(
            [OutboxEvent(type=event_type, payload=payload) for event_type, payload in events]
        )
        return [Event(id=str(row.pk), type=row.type, payload=row.payload, source=using) for row in rows]
    # This process delivers them on commit: it takes their lease in the insert (no claim to write after the
    # commit; if the process dies first, the relay takes over once the lease has run out).
    leased_until = timezone.now() + _lease()
    rows = OutboxEvent.objects.using(using).bulk_create(
        [
            OutboxEvent(type=event_type, payload=payload, leased_until=leased_until, attempts=1)
            for event_type, payload in events
        ]
    )
    # As a deliverer reading the rows would see them (JSON), so that the handlers need not read them back.
    published = [
        Event(id=str(row.pk), type=row.type, payload=json.loads(json.dumps(row.payload)), source=using) for row in rows
    ]

    def deliver() -> None:
        _deliver_published(published, using, leased_until)

    on_commit(app_label, deliver)
    return published


def _databases() -> list[str]:
    return list(dict.fromkeys(database_of(app) for app in _apps_with_events()) or ["default"])


def _apps_with_events() -> set[str]:
    from django.apps import apps

    return {config.label for config in apps.get_app_configs()}


def list_pending_events() -> list[Event]:
    """The events not yet delivered, oldest first, in every database."""
    pending = []
    for using in _databases():
        for row in OutboxEvent.objects.using(using).filter(delivered_at__isnull=True).order_by("created_at"):
            pending.append(Event(id=str(row.pk), type=row.type, payload=row.payload, source=using))
    return pending


def deliver_pending(*, older_than: timedelta = timedelta(0), limit: int = 1000) -> dict[str, int]:
    """Deliver the events left undelivered (a crash, a failing handler). Safe to run concurrently and repeatedly.

    With ``EVENT_BROKER_URL`` the events are published to the broker instead (outbox.broker), and each process
    applies its own apps' events (``consume_events``).

    Returns counts: delivered, failed (a handler raised: the event stays pending), busy (another deliverer
    holds it).
    """
    counts = {"delivered": 0, "failed": 0, "busy": 0}
    cutoff = timezone.now() - older_than
    for using in _databases():
        pending = OutboxEvent.objects.using(using).filter(delivered_at__isnull=True, created_at__lte=cutoff)
        for event_id in pending.order_by("created_at").values_list("pk", flat=True)[:limit]:
            counts[_deliver(event_id, using, via_broker=bool(settings.EVENT_BROKER_URL))] += 1
    return counts


def purge_delivered(*, batch: int = 500) -> int:
    """Delete the events delivered more than OUTBOX_KEEP_DAYS ago, and the records of their handling (in every
    database: a handler records an event in its own app's), in batches; returns how many events.

    A delivered event is never delivered again, so the records of its handling are not needed any more.
    """
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    databases = _databases()
    purged = 0
    for source in databases:
        delivered = OutboxEvent.objects.using(source).filter(delivered_at__lt=cutoff)
        while ids := list(delivered.values_list("pk", flat=True)[:batch]):
            for using in databases:
                HandledEvent.objects.using(using).filter(event_id__in=ids).delete()
            purged += OutboxEvent.objects.using(source).filter(pk__in=ids).delete()[0]
    return purged


def _deliver_published(events: list[Event], using: str, leased_until) -> None:
    """Deliver the events of one ``publish_many`` after its commit, in order; those whose handlers all succeeded
    are marked delivered together, with one UPDATE (they hold their lease until then)."""
    delivered = [
        event.id for event in events if _handle(event.id, using, event=event, leased_until=leased_until) == "delivered"
    ]
    if delivered:
        _mark_delivered(delivered, using)


def _deliver(event_id, using: str, *, via_broker: bool = False) -> str:
    """Apply one event to each of its handlers once (or hand it to the broker); "delivered", "failed" or "busy"."""
    outcome = _handle(event_id, using, via_broker=via_broker)
    if outcome == "delivered":
        _mark_delivered([event_id], using)
    return outcome


def _mark_delivered(event_ids: list, using: str) -> None:
    OutboxEvent.objects.using(using).filter(pk__in=event_ids).update(
        delivered_at=timezone.now(), leased_until=None, last_error=""
    )


def _handle(event_id, using: str, *, via_broker: bool = False, event: Event | None = None, leased_until=None) -> str:
    """``_deliver`` without marking the event delivered when it was ("delivered": the caller marks it).

    ``event``: the event itself, when the caller has it (its publisher): it is then not read back.
    ``leased_until``: the lease the publisher took in the event's insert; it is claimed again only if half of it
    has run out (a long transaction), else no other deliverer can hold it.
    """
    now = timezone.now()
    events = OutboxEvent.objects.using(using)
    # Held since its insert: no one else has delivered the event, so no handler has applied it yet.
    first = leased_until is not None and leased_until - now >= _lease() / 2
    if not first:
        claimed = (
            events.filter(pk=event_id, delivered_at__isnull=True)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now) | Q(leased_until=leased_until))
            .update(leased_until=now + _lease(), attempts=F("attempts") + 1)
        )
        if not claimed:
            return "busy"
    if event is None:
        row = events.get(pk=event_id)
        event = Event(id=str(row.pk), type=row.type, payload=row.payload, source=using)
    try:
        if via_broker:
            _send_to_broker(event)
        else:
            _dispatch(event, first=first)
    except Exception as exc:  # left for the relay; one event's trouble must not stop the others
        logger.exception("Handling event %s (%s) failed; the relay will deliver it again.", event.id, event.type)
        events.filter(pk=event_id).update(leased_until=None, last_error=repr(exc)[:500])
        return "failed"
    return "delivered"


def _dispatch(event: Event, *, first: bool = False) -> None:
    """Apply ``event`` to the handlers of this process's apps, and push it to the process of each other app.

    ``first``: its first delivery (no handler has applied it: see ``_apply``).
    """
    remote_apps = []
    for handler in _handlers.get(event.type, []):
        if handler.app_label in settings.REMOTE_APPS:
            remote_apps.append(handler.app_label)
        else:
            _apply(handler, event, first=first)
    for app_label in dict.fromkeys(remote_apps):
        remote.remote_functions("outbox", settings.REMOTE_APPS[app_label])["apply_event"](
            event=event, app_label=app_label
        )


def _app_queues(event_type: str | None = None) -> dict:
    """Each app with handlers (of ``event_type``, or of any type): its broker queue."""
    types: dict[str, set[str]] = {}
    for handled_type, handlers in _handlers.items():
        for handler in handlers:
            types.setdefault(handler.app_label, set()).add(handled_type)
    return {
        app_label: broker.queue_for(app_label, handled)
        for app_label, handled in types.items()
        if event_type is None or event_type in handled
    }


def _send_to_broker(event: Event) -> None:
    message = {"id": event.id, "type": event.type, "payload": event.payload, "source": event.source}
    broker.send(message, list(_app_queues(event.type).values()))


def apply_event(*, event: Event, app_label: str) -> None:
    """Apply ``event`` to the handlers of ``app_label``, an app of this process, each once (a repeat does nothing).

    Raises ValueError for an app that runs in another process.
    """
    if app_label in settings.REMOTE_APPS:
        raise ValueError(f"{app_label} runs in another process ({settings.REMOTE_APPS[app_label]})")
    for handler in _handlers.get(event.type, []):
        if handler.app_label == app_label:
            _apply(handler, event)


def consume_events(*, idle_seconds: float | None = None) -> int:
    """Apply the broker's events to the handlers of this process's apps until stopped (or idle that long).

    Returns how many events were applied.
    """
    queues = {app: queue for app, queue in _app_queues().items() if app not in settings.REMOTE_APPS}

    def apply(message: dict, app_label: str) -> None:
        apply_event(event=Event(**message), app_label=app_label)

    return broker.consume(queues, apply, idle_seconds=idle_seconds)


def _apply(handler: _Handler, event: Event, *, first: bool = False) -> None:
    """Apply ``event`` to ``handler`` unless it has been; ``first``: the event's first delivery, so it has not."""
    if handler.idempotent:
        handler.function(event)
        return
    using = database_of(handler.app_label)
    if not handler.atomic:
        if first or not HandledEvent.objects.using(using).filter(handler=handler.name, event_id=event.id).exists():
            handler.function(event)
            _note_handled(handler, event, using)
        return
    with transaction.atomic(using=using):
        if _note_handled(handler, event, using):
            handler.function(event)


def _note_handled(handler: _Handler, event: Event, using: str) -> bool:
    """Record that ``handler`` applied ``event``; False if it had already.

    One statement that does nothing on a repeat (no savepoint around an insert that may fail): this runs for
    every handler of every event.
    """
    connection = connections[using]
    fields = {field.name: field for field in HandledEvent._meta.concrete_fields}
    values = [
        fields["handler"].get_db_prep_value(handler.name, connection),
        fields["event_id"].get_db_prep_value(uuid.UUID(event.id), connection),
        fields["handled_at"].get_db_prep_value(timezone.now(), connection),
    ]
    table = connection.ops.quote_name(HandledEvent._meta.db_table)
    sql = (
        f"INSERT INTO {table} (handler, event_id, handled_at) VALUES (%s, %s, %s) "  # noqa: S608 - no client text
        "ON CONFLICT (handler, event_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.rowcount == 1
