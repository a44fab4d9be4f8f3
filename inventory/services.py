"""Inventory: stock levels, reservations and the stock ledger. The public interface of this app.

Overselling is prevented in the database, not in Python: every change is a conditional UPDATE
(``... WHERE on_hand - reserved >= wanted``) or runs on rows locked in product-id order, and
CHECK constraints (0 <= reserved <= on_hand) refuse anything a bug might still try. Every change
writes its ledger rows in the same transaction, so the ledger always sums to the levels.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connections, router
from django.db.models import Case, F, IntegerField, Sum, Value, When
from django.utils import timezone

from ecommerce.db import atomic
from inventory.errors import InsufficientStock, StockItemNotFound
from inventory.models import Reservation, StockItem, StockMovement
from outbox import services as outbox

__all__ = [
    "MAX_STOCK",
    "InsufficientStock",
    "StockItemNotFound",
    "StockLevel",
    "StockLine",
    "StockMovementInfo",
    "adjust_stock",
    "commit_reservation",
    "create_stock_item",
    "create_stock_items",
    "find_ledger_drift",
    "get_available_stock",
    "get_in_stock_product_ids",
    "get_low_stock_product_ids",
    "get_reservation_states",
    "get_stock_level",
    "get_stock_levels",
    "hold_again",
    "list_stock_movements",
    "release_reservation",
    "repair_ledger_drift",
    "reserve_stock",
    "return_sold_stock",
    "set_available_stock",
    "set_listed",
]

Reason = StockMovement.Reason
MAX_STOCK = 1_000_000_000  # the most units one product may have on hand or available


@dataclass(frozen=True)
class StockLevel:
    product_id: int
    on_hand: int
    reserved: int
    updated_at: datetime

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class StockLine:
    """A quantity of one product, e.g. one line of an order."""

    product_id: int
    quantity: int


def _level(item: StockItem) -> StockLevel:
    return StockLevel(
        product_id=item.product_id, on_hand=item.on_hand, reserved=item.reserved, updated_at=item.updated_at
    )


def _per_product(values: dict[int, int]) -> Case | Value:
    """An SQL expression giving each product id its own value, for one UPDATE of those products' rows (the value
    itself for one product: the usual order, and a CASE costs the ORM twice as much to build)."""
    if len(values) == 1:
        return Value(next(iter(values.values())), output_field=IntegerField())
    return Case(*(When(product_id=pid, then=Value(v)) for pid, v in values.items()), output_field=IntegerField())


def _merge(lines: Iterable[StockLine]) -> dict[int, int]:
    """Quantities per product id, in product-id order (the lock order)."""
    merged: dict[int, int] = {}
    for line in lines:
        if line.quantity <= 0:
            raise ValueError(f"quantity must be positive, got {line.quantity}")
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return dict(sorted(merged.items()))


@atomic("inventory")
def create_stock_item(*, product_id: int, on_hand: int = 0, actor_id: int | None = None) -> StockLevel:
    """Start keeping stock for a product, with ``on_hand`` units (ledger: initial).

    Raises InsufficientStock for a negative quantity.
    """
    if on_hand < 0:
        raise InsufficientStock("Stock cannot be negative.", attr="stock")
    item = StockItem.objects.create(product_id=product_id, on_hand=on_hand)
    StockMovement.objects.create(
        product_id=product_id, on_hand_delta=on_hand, reserved_delta=0, reason=Reason.INITIAL, actor_id=actor_id
    )
    return _level(item)


@atomic("inventory")
def create_stock_items(*, product_ids: Sequence[int], on_hand: int, actor_id: int | None = None) -> None:
    """Start keeping stock for many products at once, ``on_hand`` units each (ledger: initial), in bulk INSERTs.

    Raises InsufficientStock for a negative quantity.
    """
    if on_hand < 0:
        raise InsufficientStock("Stock cannot be negative.", attr="stock")
    StockItem.objects.bulk_create(StockItem(product_id=product_id, on_hand=on_hand) for product_id in product_ids)
    StockMovement.objects.bulk_create(
        StockMovement(product_id=pid, on_hand_delta=on_hand, reserved_delta=0, reason=Reason.INITIAL, actor_id=actor_id)
        for pid in product_ids
    )


@atomic("inventory")
def set_available_stock(*, product_id: int, available: int, actor_id: int | None = None, note: str = "") -> StockLevel:
    """Set on hand so that ``available`` units can be bought now (ledger: adjustment).

    Raises StockItemNotFound, or InsufficientStock when ``available`` is negative.
    """
    if available < 0:
        raise InsufficientStock("Available stock cannot go below 0.", attr="stock")
    item = StockItem.objects.select_for_update().filter(product_id=product_id).first()
    if item is None:
        raise StockItemNotFound()
    delta = available + item.reserved - item.on_hand
    if delta:
        item.on_hand += delta
        item.save(update_fields=["on_hand", "updated_at"])
        StockMovement.objects.create(
            product_id=product_id,
            on_hand_delta=delta,
            reserved_delta=0,
            reason=Reason.ADJUSTMENT,
            actor_id=actor_id,
            note=note,
        )
    return _level(item)


@atomic("inventory")
def adjust_stock(*, product_id: int, delta: int, actor_id: int | None = None, note: str = "") -> StockLevel:
    """Change on hand by ``delta`` relative to its current value; safe under concurrent changes.

    Raises StockItemNotFound, or InsufficientStock when available would go below 0.
    """
    updated = StockItem.objects.filter(product_id=product_id, on_hand__gte=F("reserved") - delta).update(
        on_hand=F("on_hand") + delta, updated_at=timezone.now()
    )
    if not updated:
        if not StockItem.objects.filter(product_id=product_id).exists():
            raise StockItemNotFound()
        raise InsufficientStock("Available stock cannot go below 0.", attr="adjust_by")
    if delta:
        StockMovement.objects.create(
            product_id=product_id,
            on_hand_delta=delta,
            reserved_delta=0,
            reason=Reason.RESTOCK if delta > 0 else Reason.ADJUSTMENT,
            actor_id=actor_id,
            note=note,
        )
    return get_stock_level(product_id=product_id)


def get_stock_level(*, product_id: int, listed_only: bool = False) -> StockLevel:
    """The stock of one product (``listed_only``: only if the catalogue shows it to customers).

    Raises StockItemNotFound.
    """
    items = StockItem.objects.filter(product_id=product_id)
    if listed_only:
        items = items.filter(listed=True)
    item = items.first()
    if item is None:
        raise StockItemNotFound()
    return _level(item)


def set_listed(*, product_id: int, listed: bool) -> None:
    """Record whether the catalogue shows the product to customers (its stock is hidden from them if not)."""
    StockItem.objects.filter(product_id=product_id).update(listed=listed)


def get_stock_levels(*, product_ids: Iterable[int]) -> dict[int, StockLevel]:
    """Stock of many products in one query; products without stock are left out."""
    rows = StockItem.objects.filter(product_id__in=set(product_ids)).values_list(
        "product_id", "on_hand", "reserved", "updated_at"
    )  # tuples, not models: the cart asks this on every request
    return {row[0]: StockLevel(*row) for row in rows}


def get_available_stock(*, product_ids: Iterable[int]) -> dict[int, int]:
    """Units available now (on hand minus reserved) per product, in one query; products without stock are left out.

    Plain SQL: every product list and detail asks this, and the ORM would cost several times the query.
    """
    ids = [int(product_id) for product_id in set(product_ids)]
    if not ids:
        return {}
    placeholders = ", ".join(["%s"] * len(ids))
    sql = f"SELECT product_id, on_hand - reserved FROM {StockItem._meta.db_table} WHERE product_id IN ({placeholders})"  # noqa: S608 - no client text in it
    with connections[router.db_for_read(StockItem)].cursor() as cursor:
        cursor.execute(sql, ids)
        return dict(cursor.fetchall())


def get_in_stock_product_ids(*, product_ids: Iterable[int] | None = None) -> set[int]:
    """Ids of the products (of ``product_ids``, or all) with at least one unit available, in one query."""
    items = StockItem.objects.filter(on_hand__gt=F("reserved"))
    if product_ids is not None:
        items = items.filter(product_id__in=set(product_ids))
    return set(items.values_list("product_id", flat=True))


@atomic("inventory")
def reserve_stock(*, order_id: int, lines: Sequence[StockLine], expires_at: datetime) -> None:
    """Hold every line's quantity for an order until ``expires_at``: all lines or none. Nothing happens if the
    order holds (or bought) stock already: a retried checkout reserves once.

    Raises InsufficientStock naming every product that lacks stock (``product_ids``).
    """
    wanted = _merge(lines)
    items = StockItem.objects.select_for_update().filter(product_id__in=wanted).order_by("product_id")
    available = {item.product_id: item.available for item in items}  # locked: a concurrent retry waits here
    live = (Reservation.Status.ACTIVE, Reservation.Status.SOLD)
    if Reservation.objects.filter(order_id=order_id, status__in=live).exists():
        return
    short = [pid for pid, quantity in wanted.items() if available.get(pid, 0) < quantity]
    if short:
        raise InsufficientStock("Not enough stock for some products.", extra={"product_ids": short})
    quantities = _per_product(wanted)
    updated = StockItem.objects.filter(product_id__in=wanted, on_hand__gte=F("reserved") + quantities).update(
        reserved=F("reserved") + quantities, updated_at=timezone.now()
    )
    if updated != len(wanted):  # only reachable where the database cannot lock rows (SQLite)
        raise InsufficientStock("Not enough stock for some products.", extra={"product_ids": list(wanted)})
    Reservation.objects.bulk_create(
        Reservation(order_id=order_id, product_id=pid, quantity=q, expires_at=expires_at) for pid, q in wanted.items()
    )
    StockMovement.objects.bulk_create(
        StockMovement(product_id=pid, on_hand_delta=0, reserved_delta=q, reason=Reason.RESERVATION, order_id=order_id)
        for pid, q in wanted.items()
    )


def _settle(
    *,
    order_id: int,
    from_status: str,
    to_status: str,
    on_hand_sign: int,
    reserved_sign: int,
    reason: str,
    actor_id,
    reserved_before: datetime | None = None,
) -> int:
    """Move an order's reservations between states, applying their quantities to the levels and the ledger."""
    now = timezone.now()  # queryset updates skip auto_now
    quantities = _move_reservations(order_id, from_status, to_status, now, reserved_before)
    if not quantities:
        return 0
    changes = {"updated_at": now}
    if on_hand_sign:
        changes["on_hand"] = F("on_hand") + on_hand_sign * _per_product(quantities)
    if reserved_sign:
        changes["reserved"] = F("reserved") + reserved_sign * _per_product(quantities)
    StockItem.objects.filter(product_id__in=quantities).update(**changes)
    StockMovement.objects.bulk_create(
        StockMovement(
            product_id=pid,
            on_hand_delta=on_hand_sign * q,
            reserved_delta=reserved_sign * q,
            reason=reason,
            order_id=order_id,
            actor_id=actor_id,
        )
        for pid, q in quantities.items()
    )
    return len(quantities)


def _move_reservations(
    order_id: int, from_status: str, to_status: str, now: datetime, reserved_before: datetime | None
) -> dict[int, int]:
    """Move an order's reservations in ``from_status`` (made by ``reserved_before``, if given) to ``to_status``;
    their quantities per product id (one live reservation per product), in product-id order.

    One UPDATE ... RETURNING (PostgreSQL, SQLite 3.35+) locks, changes and reads them; a concurrent move of the same
    ones waits for it, then finds them in another status and moves nothing.
    """
    connection = connections[router.db_for_write(Reservation)]
    at = Reservation._meta.get_field("updated_at").get_db_prep_value
    sql = f"UPDATE {Reservation._meta.db_table} SET status = %s, updated_at = %s WHERE order_id = %s AND status = %s"  # noqa: S608 - no client text in it
    params = [to_status, at(now, connection), order_id, from_status]
    if reserved_before is not None:
        sql += " AND created_at <= %s"
        params.append(at(reserved_before, connection))
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING product_id, quantity", params)
        return dict(sorted(cursor.fetchall()))


@atomic("inventory", savepoint=False)  # all or nothing with a caller's transaction (the handler's): no savepoint
def commit_reservation(*, order_id: int) -> bool:
    """Turn an order's held stock into a sale (on hand and reserved both go down; ledger: sale).

    Returns False when the order holds no stock (never reserved, released or already sold).
    """
    sold = _settle(
        order_id=order_id,
        from_status=Reservation.Status.ACTIVE,
        to_status=Reservation.Status.SOLD,
        on_hand_sign=-1,
        reserved_sign=-1,
        reason=Reason.SALE,
        actor_id=None,
    )
    return bool(sold)


@atomic("inventory")
def release_reservation(*, order_id: int, actor_id: int | None = None, reserved_before: datetime | None = None) -> bool:
    """Give an order's held stock (held since before ``reserved_before``, if given) back to sale (ledger: release).

    Safe to call more than once. Returns False when there was nothing to release.
    """
    released = _settle(
        order_id=order_id,
        from_status=Reservation.Status.ACTIVE,
        to_status=Reservation.Status.RELEASED,
        on_hand_sign=0,
        reserved_sign=-1,
        reason=Reason.RELEASE,
        actor_id=actor_id,
        reserved_before=reserved_before,
    )
    return bool(released)


@atomic("inventory")
def hold_again(*, order_id: int, lines: Sequence[StockLine], released_at: datetime) -> None:
    """Hold stock again for an order whose hold ended at ``released_at`` (it expired), because it is being paid.

    What it still held from before ``released_at`` is released first (that release may not have arrived yet);
    nothing happens if it already holds (or bought) stock taken since. Raises InsufficientStock.
    """
    release_reservation(order_id=order_id, reserved_before=released_at)
    reserve_stock(order_id=order_id, lines=lines, expires_at=timezone.now())


@atomic("inventory")
def return_sold_stock(*, order_id: int, actor_id: int | None = None) -> bool:
    """Put an order's sold units back on hand, e.g. after a refund (ledger: return). Safe to repeat.

    Returns False when the order had no sold stock left to return.
    """
    returned = _settle(
        order_id=order_id,
        from_status=Reservation.Status.SOLD,
        to_status=Reservation.Status.RETURNED,
        on_hand_sign=1,
        reserved_sign=0,
        reason=Reason.RETURN,
        actor_id=actor_id,
    )
    return bool(returned)


def get_low_stock_product_ids(*, threshold: int) -> set[int]:
    """Ids of the products with at most ``threshold`` units available, in one query."""
    return set(StockItem.objects.filter(on_hand__lte=F("reserved") + threshold).values_list("product_id", flat=True))


@dataclass(frozen=True)
class StockMovementInfo:
    id: int
    product_id: int
    reason: str  # initial | restock | adjustment | reservation | release | sale | return
    on_hand_delta: int
    reserved_delta: int
    order_id: int | None
    actor_id: int | None
    note: str
    created_at: datetime


def list_stock_movements(
    *, product_id: int | None = None, order_id: int | None = None, limit: int = 50
) -> list[StockMovementInfo]:
    """The latest stock ledger rows (of one product, of one order, or all), newest first, in one query."""
    movements = StockMovement.objects.all()
    if product_id is not None:
        movements = movements.filter(product_id=product_id)
    if order_id is not None:
        movements = movements.filter(order_id=order_id)
    return [
        StockMovementInfo(
            id=m.id,
            product_id=m.product_id,
            reason=m.reason,
            on_hand_delta=m.on_hand_delta,
            reserved_delta=m.reserved_delta,
            order_id=m.order_id,
            actor_id=m.actor_id,
            note=m.note,
            created_at=m.created_at,
        )
        for m in movements.order_by("-id")[:limit]
    ]


# --- Consistency ------------------------------------------------------------------------------------


def get_reservation_states(*, order_ids: Iterable[int] | None = None) -> dict[int, frozenset[str]]:
    """The states of each order's reservations (active, released, sold, returned), of these orders or all."""
    reservations = Reservation.objects.all()
    if order_ids is not None:
        reservations = reservations.filter(order_id__in=set(order_ids))
    states: dict[int, set[str]] = {}
    for order_id, status in reservations.values_list("order_id", "status").distinct():
        states.setdefault(order_id, set()).add(status)
    return {order_id: frozenset(found) for order_id, found in states.items()}


def find_ledger_drift() -> dict[int, tuple[int, int]]:
    """Products whose levels differ from the sum of their ledger: (on hand, reserved) levels minus ledger sums."""
    sums = {
        row["product_id"]: (row["on_hand"] or 0, row["reserved"] or 0)
        for row in StockMovement.objects.values("product_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
    }
    drift = {}
    for product_id, on_hand, reserved in StockItem.objects.values_list("product_id", "on_hand", "reserved"):
        ledger_on_hand, ledger_reserved = sums.get(product_id, (0, 0))
        if (on_hand, reserved) != (ledger_on_hand, ledger_reserved):
            drift[product_id] = (on_hand - ledger_on_hand, reserved - ledger_reserved)
    return drift


@atomic("inventory")
def repair_ledger_drift(*, product_id: int) -> bool:
    """Write the ledger row that makes a product's ledger add up to its levels again (the levels are the truth)."""
    item = StockItem.objects.select_for_update().filter(product_id=product_id).first()
    drift = find_ledger_drift().get(product_id) if item is not None else None
    if not drift:
        return False
    StockMovement.objects.create(
        product_id=product_id,
        on_hand_delta=drift[0],
        reserved_delta=drift[1],
        reason=Reason.ADJUSTMENT,
        note="check_consistency --repair: the ledger did not add up to the levels.",
    )
    return True


# --- Events from other apps ------------------------------------------------------------------------


def on_order_paid(event: outbox.Event) -> None:
    """``order.paid``: the order's held stock is sold."""
    commit_reservation(order_id=event.payload["order_id"])


def on_order_cancelled(event: outbox.Event) -> None:
    """``order.cancelled``: the stock the order held when it was cancelled goes back on sale."""
    at = datetime.fromisoformat(event.payload["at"])
    release_reservation(order_id=event.payload["order_id"], actor_id=event.payload.get("actor_id"), reserved_before=at)


def on_order_refunded(event: outbox.Event) -> None:
    """``order.refunded``: the order's sold units go back on hand."""
    return_sold_stock(order_id=event.payload["order_id"], actor_id=event.payload.get("actor_id"))
