"""Orders: checkout, order state and reservation expiry. The public interface of this app.

Status machine: pending -> paid (only through payment), pending -> cancelled (stock released),
paid -> shipped -> delivered, paid -> refunded (through the payment provider; stock returned).
Every change is a compare-and-set on the current status, so concurrent changes cannot both win.
"""

import dataclasses
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, connections, router
from django.db.models import Count, Sum
from django.utils import timezone

from accounts import services as accounts
from cart import services as cart
from catalog import services as catalog
from ecommerce.addresses import PostalAddress
from ecommerce.db import atomic
from ecommerce.errors import DomainError
from ecommerce.money import MAX_AMOUNT, AmountTooLarge, quantize
from inventory import services as inventory
from inventory.services import InsufficientStock, StockLine
from orders import notifications
from orders.errors import (
    AlreadyPaid,
    AmbiguousAddress,
    CartEmpty,
    InvalidTransition,
    NoPaymentToRefund,
    OrderNotFound,
    OrderNotPayable,
    RefundProviderUnavailable,
    ReservedUnitsLimit,
    ShippingAddressRequired,
    ShippingMethodRequired,
    ShippingMethodUnavailable,
    TooManyPendingOrders,
)
from orders.models import CustomerCheckoutLock, Order, OrderLine, ShippingMethod, StatusChange
from orders.selectors import orders_for
from outbox import services as outbox

__all__ = [
    "PAID_STATES",
    "REFUND_ERRORS",
    "Actor",
    "AlreadyPaid",
    "AmbiguousAddress",
    "AmountDue",
    "CartEmpty",
    "InvalidTransition",
    "NoPaymentToRefund",
    "OrderInfo",
    "OrderItem",
    "OrderNotFound",
    "OrderNotPayable",
    "OrderPage",
    "RefundProviderUnavailable",
    "RefundUnavailable",
    "Refunder",
    "ReservedUnitsLimit",
    "SalesSummary",
    "ShippingAddressRequired",
    "ShippingChoice",
    "ShippingMethodRequired",
    "ShippingMethodUnavailable",
    "ShippingOption",
    "TimelineEntry",
    "TooManyPendingOrders",
    "cancel_order",
    "change_order_status",
    "checkout",
    "expire_due_orders",
    "find_order_ids",
    "find_unfinished_checkouts",
    "get_amount_due",
    "get_order",
    "get_order_statuses",
    "get_payable_order",
    "list_all_orders",
    "list_orders",
    "list_shipping_options",
    "list_shipping_options_for_cart",
    "mark_order_paid",
    "mark_order_refunded",
    "provide_refunder",
    "reserve_for_payment",
    "sales_since",
    "settle_checkout",
    "staff_transitions",
]

logger = logging.getLogger(__name__)

Status = Order.Status
Actor = StatusChange.Actor
PAID_STATES = frozenset({Status.PAID, Status.SHIPPED, Status.DELIVERED})


class RefundUnavailable(InvalidTransition):
    default_message = "No payment could be refunded for this order."


class Refunder(Protocol):
    """The port through which orders asks for a paid order's money back (the payments app provides it).

    It refunds through the provider, outside any transaction, then calls ``mark_order_refunded``.
    It raises only REFUND_ERRORS (or InvalidTransition when the order is not paid).
    """

    def __call__(self, *, order_id: int, actor_id: int | None, reason: str) -> None: ...


# What a refund asked of the Refunder can fail with, besides InvalidTransition (documented by the orders API).
REFUND_ERRORS = (NoPaymentToRefund, RefundProviderUnavailable)

_refunders: list[Refunder] = []


def provide_refunder(refunder: Refunder) -> None:
    """Install the function that refunds paid orders (the payments app does, when it starts)."""
    _refunders[:] = [refunder]


@dataclass(frozen=True)
class OrderItem:
    product_id: int
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal


@dataclass(frozen=True)
class TimelineEntry:
    """A status the order entered: from which (None at creation), when, who moved it (an Actor) and why."""

    from_status: str | None
    to_status: str
    at: datetime
    actor: str
    actor_id: int | None
    reason: str


@dataclass(frozen=True)
class ShippingChoice:
    """The shipping method an order was placed with, as it was called then (``id`` None once it is deleted)."""

    id: int | None
    name: str


@dataclass(frozen=True)
class OrderInfo:
    id: int
    user_id: int
    status: str
    items: list[OrderItem]
    subtotal: Decimal
    total: Decimal
    currency: str
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    expires_at: datetime
    timeline: list[TimelineEntry]
    shipping: Decimal
    shipping_method: ShippingChoice | None
    shipping_address: PostalAddress | None

    @property
    def can_pay(self) -> bool:
        """Whether its owner may pay it now: pending, and its reservation not expired."""
        return self.status == Status.PENDING and self.expires_at > timezone.now()

    @property
    def can_cancel(self) -> bool:
        """Whether its owner may cancel it (staff may also cancel, and so refund, a paid order)."""
        return self.status == Status.PENDING


def _entry(change: StatusChange) -> TimelineEntry:
    return TimelineEntry(
        from_status=change.from_status or None,
        to_status=change.to_status,
        at=change.at,
        actor=change.actor,
        actor_id=change.actor_id,
        reason=change.reason,
    )


def to_info(order: Order, lines: list[OrderLine] | None = None, changes: list[StatusChange] | None = None) -> OrderInfo:
    """Plain data of an order, with ``lines`` and ``changes`` if the caller has them (else prefetched or loaded)."""
    return OrderInfo(
        id=order.id,
        user_id=order.user_id,
        status=order.status,
        items=[
            OrderItem(line.product_id, line.name, line.unit_price, line.quantity, line.line_total)
            for line in (order.lines.all() if lines is None else lines)
        ],
        subtotal=order.subtotal,
        total=order.total,
        currency=order.currency,
        created_at=order.created_at,
        updated_at=order.updated_at,
        paid_at=order.paid_at,
        expires_at=order.expires_at,
        timeline=[_entry(change) for change in (order.status_changes.all() if changes is None else changes)],
        shipping=order.shipping,
        shipping_method=ShippingChoice(order.shipping_method_id, order.shipping_method_name)
        if order.shipping_method_name
        else None,
        shipping_address=PostalAddress(**order.shipping_address) if order.shipping_address else None,
    )


def _record_change(
    order_id: int,
    *,
    source: str,
    target: str,
    actor: str,
    actor_id: int | None = None,
    reason: str = "",
    at=None,
    events: Iterable[tuple[str, dict]] = (),
    order: OrderInfo | None = None,
) -> StatusChange:
    """Write the timeline entry of a status change, and publish it for the customer's email, in the caller's
    transaction (the one making the change); with ``events`` (type, payload) of the same change, written with it.
    ``order``: the order as the change leaves it, if the caller has it (else its email's event reads it)."""
    change = StatusChange.objects.create(
        order_id=order_id,
        from_status=source,
        to_status=target,
        at=at or timezone.now(),
        actor=actor,
        actor_id=actor_id,
        reason=reason,
    )
    email = notifications.status_change_event(change, order)
    published = [event for event in [email] if event is not None] + list(events)
    if published:
        outbox.publish_many(published, app_label="orders")
    return change


def _load(order_id: int, *, user_id: int | None = None, lock: bool = False, related: bool = True) -> Order:
    """The order (locked with ``lock``; with its lines and timeline prefetched if ``related`` and not locked).

    Raises OrderNotFound.
    """
    if lock:
        orders = Order.objects.select_for_update()
    elif related:
        orders = Order.objects.prefetch_related("lines", "status_changes")
    else:
        orders = Order.objects.all()
    if user_id is not None:
        orders = orders.filter(user_id=user_id)
    order = orders.filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound()
    return order


# --- Shipping -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippingOption:
    """A shipping method on offer, with its price for one order's subtotal."""

    id: int
    name: str
    description: str
    price: Decimal
    flat_price: Decimal
    free_over: Decimal | None
    currency: str


def _shipping_price(method: ShippingMethod, subtotal: Decimal) -> Decimal:
    if method.free_over is not None and subtotal >= method.free_over:
        return Decimal("0.00")
    return quantize(method.price)


def list_shipping_options(*, subtotal: Decimal) -> list[ShippingOption]:
    """The active shipping methods, in their staff-set order, priced for an order of ``subtotal``; one query."""
    return [
        ShippingOption(
            id=method.id,
            name=method.name,
            description=method.description,
            price=_shipping_price(method, subtotal),
            flat_price=quantize(method.price),
            free_over=method.free_over,
            currency=settings.STORE_CURRENCY,
        )
        for method in ShippingMethod.objects.filter(is_active=True)
    ]


def list_shipping_options_for_cart(*, user_id: int) -> list[ShippingOption]:
    """The active shipping methods, priced for the user's cart as it stands."""
    return list_shipping_options(subtotal=cart.get_cart(user_id=user_id).subtotal)


def _delivery(
    user_id: int, address: PostalAddress | None, address_id: int | None, shipping_method_id: int | None
) -> tuple[PostalAddress, ShippingMethod] | None:
    """Where and how an order ships, checked; None for an order placed without delivery (original API clients).

    Raises AmbiguousAddress, ShippingAddressRequired, ShippingMethodRequired, ShippingMethodUnavailable,
    or accounts' AddressNotFound.
    """
    if address is not None and address_id is not None:
        raise AmbiguousAddress(attr="address_id")
    if address is None and address_id is None and shipping_method_id is None:
        return None
    if shipping_method_id is None:
        raise ShippingMethodRequired(attr="shipping_method_id")
    if address is None and address_id is None:
        raise ShippingAddressRequired(attr="shipping_address")
    if address is None:
        address = accounts.get_address(user_id=user_id, address_id=address_id).address
    method = ShippingMethod.objects.filter(pk=shipping_method_id, is_active=True).first()
    if method is None:
        raise ShippingMethodUnavailable(attr="shipping_method_id")
    return address, method


def checkout(
    *,
    user_id: int,
    shipping_address: PostalAddress | None = None,
    address_id: int | None = None,
    shipping_method_id: int | None = None,
    key: str | None = None,
) -> OrderInfo:
    """Turn the user's cart into a pending order holding its stock, and empty the cart.

    The order ships to ``shipping_address`` (or the saved address ``address_id``) by ``shipping_method_id``,
    whose price for the subtotal is added to the total; with none of the three, it is placed without delivery
    (no shipping charged), as clients of the original API did. Raises CartEmpty, or InsufficientStock naming
    the products short of stock, AmountTooLarge when a line or the total would exceed MAX_AMOUNT,
    TooManyPendingOrders or ReservedUnitsLimit (the caps on a customer's unpaid orders), or an error of
    ``_delivery``; the cart is then as it was.

    Each app commits its own step: the cart gives up its lines, orders writes the order (not placed yet),
    inventory holds the stock, orders places the order (event ``order.placed``: the cart forgets the lines).
    A failed step undoes the ones before it. With ``key`` (the request's Idempotency-Key) a retry resumes the
    same checkout and never makes a second order; a checkout whose process died is settled by
    ``settle_checkout`` (check_consistency).
    """
    token = uuid.uuid5(CHECKOUT_KEYS, f"{user_id}:{key}") if key is not None else uuid.uuid4()
    if key is not None:  # a retry finds what an earlier attempt did; a new token (uuid4) has nothing yet
        placed = Order.objects.filter(checkout_token=token, user_id=user_id).first()
        if placed is not None:
            return to_info(placed)
    delivery = _delivery(user_id, shipping_address, address_id, shipping_method_id)
    entries = cart.take_cart_lines(user_id=user_id, token=token, new_token=key is None)
    if not entries:
        raise CartEmpty()
    try:
        order, lines = _write_order(user_id, token, entries, delivery, resumed=key is not None)
        stock = [StockLine(line.product_id, line.quantity) for line in lines]
        inventory.reserve_stock(order_id=order.id, lines=stock, expires_at=order.expires_at)
    except DomainError:
        _undo_checkout(token)
        raise
    return _place(order, lines)


# Checkout tokens of requests sent with an Idempotency-Key: uuid5 of the user and the key in this namespace.
CHECKOUT_KEYS = uuid.UUID("3c0f5f8e-4d52-4b8e-9a51-2f5d8c1e7a10")


def _write_order(
    user_id: int,
    token: uuid.UUID,
    entries: list,
    delivery: tuple[PostalAddress, ShippingMethod] | None,
    *,
    resumed: bool,
) -> tuple[Order, list[OrderLine]]:
    """The checkout's order, not placed yet, and its lines (written now, or by an earlier attempt of it if
    ``resumed``: the token is the one of an earlier request).

    Raises InsufficientStock for products no longer on sale, AmountTooLarge, TooManyPendingOrders or
    ReservedUnitsLimit (checked under the customer's checkout lock, in the transaction that writes the order).
    """
    written = Order.checkouts.filter(checkout_token=token).first() if resumed else None
    if written is not None:
        return written, list(written.lines.all())
    products = catalog.get_products(product_ids=[entry.product_id for entry in entries])
    unavailable = [
        e.product_id for e in entries if e.product_id not in products or not products[e.product_id].is_active
    ]
    if unavailable:
        raise InsufficientStock("Some products are no longer on sale.", extra={"product_ids": unavailable})
    lines = [
        OrderLine(
            product_id=entry.product_id,
            name=products[entry.product_id].name,
            unit_price=quantize(products[entry.product_id].price),
            quantity=entry.quantity,
            line_total=quantize(products[entry.product_id].price * entry.quantity),
        )
        for entry in entries
    ]
    subtotal = quantize(sum((line.line_total for line in lines), Decimal("0")))
    shipping = {}
    if delivery is not None:
        address, method = delivery
        shipping = {
            "shipping": _shipping_price(method, subtotal),
            "shipping_method": method,
            "shipping_method_name": method.name,
            "shipping_address": address.as_dict(),
        }
    if subtotal + shipping.get("shipping", Decimal("0")) > MAX_AMOUNT:  # and so is every line total
        raise AmountTooLarge(f"An order line and the order total may be at most {MAX_AMOUNT}.")
    try:
        with atomic("orders"):
            _lock_customer_checkouts(user_id)
            _check_pending_caps(user_id, token, units=sum(entry.quantity for entry in entries))
            order = Order.checkouts.create(
                user_id=user_id,
                subtotal=subtotal,
                total=subtotal + shipping.get("shipping", Decimal("0.00")),
                currency=settings.STORE_CURRENCY,
                expires_at=timezone.now() + timedelta(minutes=settings.RESERVATION_TTL_MINUTES),
                checkout_token=token,
                placed=False,
                **shipping,
            )
            for line in lines:
                line.order = order
            OrderLine.objects.bulk_create(lines)
    except IntegrityError:  # a concurrent attempt of the same checkout (a retry) wrote it first
        written = Order.checkouts.get(checkout_token=token)
        return written, list(written.lines.all())
    return order, lines


def _lock_customer_checkouts(user_id: int) -> None:
    """Lock the customer's checkout lock row until the transaction ends, creating it if missing: one upsert
    (``ON CONFLICT DO UPDATE`` locks the row it meets, as ``SELECT ... FOR UPDATE`` would)."""
    connection = connections[router.db_for_write(CustomerCheckoutLock)]
    table = connection.ops.quote_name(CustomerCheckoutLock._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id) VALUES (%s) ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id",  # noqa: S608 - no client text
            [user_id],
        )


def _place(order: Order, lines: list[OrderLine]) -> OrderInfo:
    """Last step of checkout, once the stock is held: the order is placed (shown, payable, emailed)."""
    with atomic("orders"):
        if Order.checkouts.filter(pk=order.id, placed=False).update(placed=True):
            info = to_info(order, lines, [])
            placed = _record_change(
                order.id,
                source="",
                target=Status.PENDING,
                actor=Actor.CUSTOMER,
                actor_id=order.user_id,
                at=order.created_at,
                events=[("order.placed", {"order_id": order.id, "checkout": str(order.checkout_token)})],
                order=info,
            )
            return dataclasses.replace(info, timeline=[_entry(placed)])
    return get_order(order_id=order.id)  # a concurrent attempt of the same checkout placed it


def _undo_checkout(token: uuid.UUID) -> None:
    """Undo what a checkout that will not place its order did: no order, no stock held, the lines back in the cart.

    Safe to repeat, and at any point of a checkout that died.
    """
    with atomic("orders"):
        order = Order.checkouts.select_for_update().filter(checkout_token=token, placed=False).first()
        if order is not None:
            # The stock it may hold goes back through the event; the order never existed for anyone.
            _publish("order.cancelled", order_id=order.id, actor_id=None, at=timezone.now().isoformat())
            order.delete()
    cart.return_taken_lines(token=token)


# A checkout takes well under a second; one whose lines are still taken after this long has stopped.
UNFINISHED_CHECKOUT_AFTER = timedelta(minutes=5)


def find_unfinished_checkouts() -> list[uuid.UUID]:
    """The tokens of the checkouts that stopped between their steps (the cart still lends them its lines)."""
    return [taken.token for taken in cart.list_taken_lines(taken_before=timezone.now() - UNFINISHED_CHECKOUT_AFTER)]


def settle_checkout(*, token: uuid.UUID) -> bool:
    """Finish or undo a checkout whose process died between its steps (its lines are still taken from the cart).

    Its order placed: the cart forgets the lines. Not placed: undone (``_undo_checkout``). Returns True if it
    was undone. For check_consistency; an active checkout is never passed here.
    """
    if Order.objects.filter(checkout_token=token).exists():
        cart.forget_taken_lines(token=token)
        return False
    _undo_checkout(token)
    return True


def _check_pending_caps(user_id: int, token: uuid.UUID, *, units: int) -> None:
    """Refuse a new order past the caps on the customer's unpaid orders that hold stock (MAX_PENDING_ORDERS,
    MAX_RESERVED_UNITS), so that no one customer can hold a shop's stock. Orders of the customer's other
    checkouts still under way count too (written, not placed yet); the one of checkout ``token`` does not.

    Raises TooManyPendingOrders or ReservedUnitsLimit.
    """
    held = (
        Order.checkouts.filter(user_id=user_id, status=Status.PENDING, expires_at__gt=timezone.now())
        .exclude(checkout_token=token)
        .aggregate(orders=Count("id", distinct=True), units=Sum("lines__quantity"))
    )
    if held["orders"] >= settings.MAX_PENDING_ORDERS:
        raise TooManyPendingOrders(
            f"You have {held['orders']} unpaid orders, the most allowed. Pay or cancel one before placing another."
        )
    if (held["units"] or 0) + units > settings.MAX_RESERVED_UNITS:
        raise ReservedUnitsLimit(
            f"Your unpaid orders may hold at most {settings.MAX_RESERVED_UNITS} units in all; this order would "
            f"make {(held['units'] or 0) + units}. Pay or cancel an order, or order fewer."
        )


def _expire(order_id: int) -> bool:
    """Cancel one pending order past its expiry and release its stock; False if it was not due (any more)."""
    now = timezone.now()
    with atomic("orders"):
        expired = Order.objects.filter(pk=order_id, status=Status.PENDING, expires_at__lte=now).update(
            status=Status.CANCELLED, cancelled_by=Order.CancelledBy.EXPIRY, updated_at=now
        )
        if expired:
            _record_change(
                order_id,
                source=Status.PENDING,
                target=Status.CANCELLED,
                actor=Actor.EXPIRY_JOB,
                reason="Not paid before its reservation expired.",
                at=now,
                events=[("order.cancelled", {"order_id": order_id, "actor_id": None, "at": now.isoformat()})],
            )
    return bool(expired)


def expire_due_orders(*, user_id: int | None = None) -> int:
    """Cancel the pending orders past ``expiresAt`` (of one user, or all) and release their stock.

    Safe to run at any time, concurrently with checkouts and payments, and more than once.
    Returns how many orders it cancelled.
    """
    due = Order.objects.filter(status=Status.PENDING, expires_at__lte=timezone.now())
    if user_id is not None:
        due = due.filter(user_id=user_id)
    return sum(_expire(order_id) for order_id in due.values_list("id", flat=True))


def _fresh(order: Order, *, related: bool = True) -> Order:
    """The order as it stands, after expiring it if it is past its expiry (read again as ``_load`` reads it)."""
    if order.status == Status.PENDING and order.expires_at <= timezone.now() and _expire(order.id):
        return _load(order.id, related=related)
    return order


def _order_for_email(order_id: int) -> OrderInfo:
    """An order as its status emails show it: with its lines, without its timeline (which they do not show); one
    query (its lines with it)."""
    lines = list(OrderLine.objects.select_related("order").filter(order_id=order_id))
    return to_info(lines[0].order if lines else Order.checkouts.get(pk=order_id), lines, changes=[])


def get_order(*, order_id: int, user_id: int | None = None) -> OrderInfo:
    """An order; with ``user_id``, only if it is that user's. Raises OrderNotFound.

    Two queries: its lines with the order joined to them, and its timeline.
    """
    lines = OrderLine.objects.select_related("order").filter(order_id=order_id, order__placed=True)
    if user_id is not None:
        lines = lines.filter(order__user_id=user_id)
    lines = list(lines)
    if not lines:  # no placed order has none: unknown, or not the user's
        return to_info(_fresh(_load(order_id, user_id=user_id)))
    order = lines[0].order
    fresh = _fresh(order)
    if fresh is not order:  # it expired just now, and was read again
        return to_info(fresh)
    return to_info(order, lines, list(StatusChange.objects.filter(order_id=order.id)))


@dataclass(frozen=True)
class OrderPage:
    """One page of a user's orders, and how many they have in all."""

    items: list[OrderInfo]
    count: int


def list_orders(*, user_id: int, offset: int = 0, limit: int = 20) -> OrderPage:
    """A page of the user's orders, newest first, those past expiry cancelled first; a fixed number of queries."""
    expire_due_orders(user_id=user_id)
    orders = orders_for(user_id=user_id)
    count = orders.count()
    page = orders[offset : offset + limit] if count > offset else []
    return OrderPage(items=[to_info(order) for order in page], count=count)


def list_all_orders(*, user_id: int) -> list[OrderInfo]:
    """Every order of the user, oldest first, with lines and timelines (for their data export); three queries."""
    return [to_info(order) for order in orders_for(user_id=user_id).order_by("created_at", "id")]


def get_payable_order(*, order_id: int, user_id: int) -> OrderInfo:
    """The user's order, if it can be paid now.

    Raises OrderNotFound (not theirs), AlreadyPaid, or OrderNotPayable (cancelled, refunded or expired).
    """
    order = get_order(order_id=order_id, user_id=user_id)
    _refuse_unpayable(order.status)
    return order


@dataclass(frozen=True)
class AmountDue:
    """What paying an order takes: its total, in its currency."""

    order_id: int
    total: Decimal
    currency: str


def get_amount_due(*, order_id: int, user_id: int) -> AmountDue:
    """What the user's order costs, if it can be paid now: ``get_payable_order`` without the lines and timeline
    (one query, for the payment of the order).

    Raises OrderNotFound (not theirs), AlreadyPaid, or OrderNotPayable (cancelled, refunded or expired).
    """
    order = _fresh(_load(order_id, user_id=user_id, related=False), related=False)
    _refuse_unpayable(order.status)
    return AmountDue(order_id=order.id, total=order.total, currency=order.currency)


def _refuse_unpayable(status: str) -> None:
    if status in PAID_STATES:
        raise AlreadyPaid()
    if status != Status.PENDING:
        raise OrderNotPayable()


def _publish(event_type: str, **payload) -> None:
    outbox.publish(event_type, payload, app_label="orders")


def reserve_for_payment(*, order_id: int) -> bool:
    """Make sure the order can take a payment that the provider has accepted, before it is recorded.

    A pending order can. One that expired meanwhile gets its stock held again (inventory commits that on its own).
    Returns True, or False for an order paid already. Raises OrderNotPayable when that stock is gone, or a person
    cancelled the order, or it was refunded.
    """
    return _payable(_load(order_id, related=False))


def _payable(order: Order) -> bool:
    """``reserve_for_payment`` of a loaded order."""
    if order.status in PAID_STATES:
        return False
    if _expired(order):
        _hold_again(order)
    elif order.status != Status.PENDING:
        raise OrderNotPayable()
    return True


def _expired(order: Order) -> bool:
    return order.status == Status.CANCELLED and order.cancelled_by == Order.CancelledBy.EXPIRY


def mark_order_paid(*, order_id: int) -> OrderInfo:
    """Record that the order's payment succeeded: status paid; its held stock is then sold (event ``order.paid``).

    An order that expired meanwhile gets its stock held again first. Idempotent for a paid order.
    Raises OrderNotPayable when that stock is gone, a person cancelled the order, or it was refunded.
    """
    _mark_paid(order_id)
    return get_order(order_id=order_id)


def _mark_paid(order_id: int) -> None:
    """``mark_order_paid`` without the answer: a pending order in one transaction, without reading it first; any
    other is read, and held again first if it expired."""
    if _pay(order_id, source=Status.PENDING):
        return
    order = _load(order_id, related=False)
    if not _payable(order):
        return
    reason = "Paid after its reservation expired; the stock was reserved again." if _expired(order) else ""
    if not _pay(order_id, source=order.status, cancelled_by=order.cancelled_by, reason=reason):
        # Changed meanwhile: paid by a concurrent delivery (fine), or cancelled by a person.
        if Order.objects.filter(pk=order_id, status__in=PAID_STATES).exists():
            return
        raise OrderNotPayable()


def _pay(order_id: int, *, source: str, cancelled_by: str | None = None, reason: str = "") -> bool:
    """Compare-and-set the status ``source`` (cancelled by ``cancelled_by``, if given) -> paid, with its timeline
    entry and ``order.paid``, in one transaction; False if the order was not in ``source``."""
    now = timezone.now()
    orders = Order.objects.filter(pk=order_id, status=source)
    if cancelled_by is not None:
        orders = orders.filter(cancelled_by=cancelled_by)
    with atomic("orders"):
        won = orders.update(status=Status.PAID, paid_at=now, cancelled_by="", updated_at=now)
        if won:
            _record_change(
                order_id,
                source=source,
                target=Status.PAID,
                actor=Actor.PAYMENT_PROVIDER,
                reason=reason,
                at=now,
                events=[("order.paid", {"order_id": order_id})],
            )
    return bool(won)


def _hold_again(order: Order) -> None:
    """Hold an expired order's stock again, as the sale needs it. Raises OrderNotPayable when it is gone."""
    expiry = order.status_changes.filter(to_status=Status.CANCELLED).order_by("-at", "-id").first()
    lines = [StockLine(line.product_id, line.quantity) for line in order.lines.all()]
    try:
        inventory.hold_again(order_id=order.id, lines=lines, released_at=expiry.at if expiry else order.updated_at)
    except InsufficientStock as exc:
        raise OrderNotPayable("The order expired and its products are no longer in stock.") from exc


@atomic("orders")
def mark_order_refunded(*, order_id: int, actor_id: int | None = None, reason: str = "") -> OrderInfo:
    """Record that a paid order's payment was refunded: status refunded; its sold stock is then returned
    (event ``order.refunded``).

    ``actor_id`` is the staff user who asked for the refund; None when the provider reported it.
    Idempotent for a refunded order. Raises InvalidTransition from any status but paid.
    """
    order = _load(order_id, lock=True)
    if order.status != Status.REFUNDED:
        if order.status != Status.PAID:
            raise InvalidTransition(f"A {order.status} order cannot be refunded.")
        _publish("order.refunded", order_id=order_id, actor_id=actor_id)
        actor = Actor.PAYMENT_PROVIDER if actor_id is None else Actor.STAFF
        _record_change(
            order_id, source=Status.PAID, target=Status.REFUNDED, actor=actor, actor_id=actor_id, reason=reason
        )
        order.status = Status.REFUNDED
        order.save(update_fields=["status", "updated_at"])
    return get_order(order_id=order_id)


@atomic("orders")
def _move(
    order_id: int, *, source: str, target: str, actor: str, actor_id: int, reason: str = "", **changes
) -> OrderInfo:
    """Compare-and-set the status and write its timeline entry; InvalidTransition if the order left ``source``."""
    now = timezone.now()
    if not Order.objects.filter(pk=order_id, status=source).update(status=target, updated_at=now, **changes):
        raise InvalidTransition(f"Only a {source} order can become {target}.")
    _record_change(order_id, source=source, target=target, actor=actor, actor_id=actor_id, reason=reason, at=now)
    return get_order(order_id=order_id)


def _refund(order_id: int, actor_id: int | None, reason: str) -> OrderInfo:
    """Refund a paid order through the Refunder (it calls the provider, so never call this inside a transaction).

    Raises RefundUnavailable (no refunder is installed), InvalidTransition or REFUND_ERRORS.
    """
    if not _refunders:
        raise RefundUnavailable()
    _refunders[0](order_id=order_id, actor_id=actor_id, reason=reason)
    return get_order(order_id=order_id)


def cancel_order(*, order_id: int, user_id: int, is_staff: bool = False, reason: str = "") -> OrderInfo:
    """Cancel an order: a pending one (owner or staff) releases its stock; a paid one (staff) is refunded.

    ``reason`` goes on the order's timeline. Raises OrderNotFound (not the caller's) or InvalidTransition.
    """
    order = get_order(order_id=order_id, user_id=None if is_staff else user_id)
    if order.status == Status.PAID and is_staff:
        return _refund(order_id, user_id, reason)
    if order.status != Status.PENDING:
        raise InvalidTransition(f"A {order.status} order cannot be cancelled.")
    cancelled_by = Order.CancelledBy.STAFF if is_staff else Order.CancelledBy.CUSTOMER
    with atomic("orders"):
        order = _move(
            order_id,
            source=Status.PENDING,
            target=Status.CANCELLED,
            actor=Actor.STAFF if is_staff else Actor.CUSTOMER,
            actor_id=user_id,
            reason=reason,
            cancelled_by=cancelled_by,
        )
        _publish("order.cancelled", order_id=order_id, actor_id=user_id, at=timezone.now().isoformat())
    return order


STAFF_TARGETS = (Status.SHIPPED, Status.DELIVERED, Status.CANCELLED, Status.REFUNDED)


def change_order_status(*, order_id: int, status: str, actor_id: int, reason: str = "") -> OrderInfo:
    """Staff move an order along the status machine; ``reason`` goes on its timeline.

    Raises OrderNotFound or InvalidTransition.
    """
    order = get_order(order_id=order_id)
    staff = {"actor": Actor.STAFF, "actor_id": actor_id, "reason": reason}
    if status == Status.SHIPPED:
        return _move(order_id, source=Status.PAID, target=Status.SHIPPED, **staff)
    if status == Status.DELIVERED:
        return _move(order_id, source=Status.SHIPPED, target=Status.DELIVERED, **staff)
    if status == Status.CANCELLED:
        return cancel_order(order_id=order_id, user_id=actor_id, is_staff=True, reason=reason)
    if status == Status.REFUNDED and order.status == Status.PAID:
        return _refund(order_id, actor_id, reason)
    raise InvalidTransition(f"A {order.status} order cannot become {status}.")


# What staff may move an order to from each status, in the order the admin offers it (the status machine).
STAFF_TRANSITIONS = {
    Status.PENDING: (Status.CANCELLED,),
    Status.PAID: (Status.SHIPPED, Status.REFUNDED),
    Status.SHIPPED: (Status.DELIVERED,),
}


def staff_transitions(*, status: str) -> tuple[str, ...]:
    """The statuses staff may move an order in ``status`` to with change_order_status (none from a final one)."""
    return STAFF_TRANSITIONS.get(status, ())


@dataclass(frozen=True)
class SalesSummary:
    orders_placed: int
    orders_paid: int
    revenue: Decimal  # the totals of the orders paid in the period and not refunded since
    currency: str


def sales_since(*, since: datetime) -> SalesSummary:
    """Orders placed and paid since ``since``, and their revenue, in two queries."""
    placed = Order.objects.filter(created_at__gte=since).count()
    paid = Order.objects.filter(paid_at__gte=since, status__in=PAID_STATES).aggregate(
        count=Count("id"), revenue=Sum("total")
    )
    return SalesSummary(
        orders_placed=placed,
        orders_paid=paid["count"],
        revenue=quantize(paid["revenue"] or Decimal("0")),
        currency=settings.STORE_CURRENCY,
    )


def get_order_statuses(*, order_ids: Iterable[int]) -> dict[int, str]:
    """The status of each of these orders, in one query; unknown ids are left out."""
    return dict(Order.objects.filter(pk__in=set(order_ids)).order_by().values_list("id", "status"))


def find_order_ids(*, statuses: Iterable[str]) -> set[int]:
    """The ids of the orders in any of these statuses, in one query."""
    return set(Order.objects.filter(status__in=set(statuses)).values_list("id", flat=True))


# --- Events from other apps ------------------------------------------------------------------------


def on_payment_succeeded(event: outbox.Event) -> None:
    """``payment.succeeded``: the order is paid; or, if it cannot be any more, ``order.payment_rejected``
    tells payments to give the money back."""
    order_id = event.payload["order_id"]
    try:
        _mark_paid(order_id)
    except OrderNotPayable as refused:
        with atomic("orders"):
            _publish(
                "order.payment_rejected",
                order_id=order_id,
                payment_id=event.payload["payment_id"],
                reason=refused.message,
            )


def on_payment_refunded(event: outbox.Event) -> None:
    """``payment.refunded``: a paid order becomes refunded (and its stock returns); any other is left to staff."""
    order_id = event.payload["order_id"]
    try:
        mark_order_refunded(
            order_id=order_id, actor_id=event.payload.get("actor_id"), reason=event.payload.get("reason", "")
        )
    except InvalidTransition:
        logger.warning(
            "Order %s was refunded at the provider but cannot become refunded: staff must settle it.", order_id
        )
