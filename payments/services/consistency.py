"""The invariants that hold across apps once every event is delivered, checked (and repaired) after the fact.

Each app commits only its own rows, and the effects in other apps follow through events, so for a moment
(or, after a crash, until the relay runs) a payment can be succeeded while its order is not yet paid.
This check lives in payments because payments is the top of the domain layers: the one app that may read
the others' public surfaces. It reads them in a fixed number of queries per kind of problem.
"""

import logging
import uuid
from dataclasses import dataclass

from inventory import services as inventory
from orders import services as orders
from outbox import services as outbox
from payments.models import Payment
from payments.services.charging import refund_unpayable

logger = logging.getLogger(__name__)

Status = Payment.Status
CLOSED_ORDER_STATES = ("cancelled", "refunded")


@dataclass(frozen=True)
class Inconsistency:
    kind: str  # see the functions below for each kind
    subject: str  # "order 12", "product 7"
    detail: str


def find_inconsistencies() -> list[Inconsistency]:
    """Every cross-app invariant that does not hold now (empty when all is well)."""
    found: list[Inconsistency] = []
    succeeded = set(Payment.objects.filter(status=Status.SUCCEEDED).values_list("order_id", flat=True))
    # A refund we sent for an order staff cancelled, or one made at the provider: failure_code is set only when
    # the money went back because the order could not take it (it was never paid).
    refunded = set(
        Payment.objects.filter(status=Status.REFUNDED, failure_code="")
        .exclude(order_id__in=succeeded)
        .values_list("order_id", flat=True)
    )
    statuses = orders.get_order_statuses(order_ids=succeeded | refunded)
    for order_id in sorted(succeeded):
        if statuses.get(order_id) not in orders.PAID_STATES:
            detail = f"its payment succeeded but it is {statuses.get(order_id)}"
            found.append(Inconsistency("payment_succeeded_order_not_paid", f"order {order_id}", detail))
    for order_id in sorted(refunded):
        if statuses.get(order_id) == "paid":
            detail = "its payment was refunded but it is still paid"
            found.append(Inconsistency("payment_refunded_order_paid", f"order {order_id}", detail))

    paid = orders.find_order_ids(statuses=orders.PAID_STATES)
    closed = orders.get_order_statuses(order_ids=orders.find_order_ids(statuses=CLOSED_ORDER_STATES))
    reservations = inventory.get_reservation_states(order_ids=paid | set(closed))
    for order_id in sorted(paid):
        states = reservations.get(order_id, frozenset())
        if "sold" not in states or "active" in states:
            detail = f"it is paid but its reservations are {sorted(states) or 'missing'}"
            found.append(Inconsistency("paid_order_stock_not_sold", f"order {order_id}", detail))
    for order_id, status in sorted(closed.items()):
        states = reservations.get(order_id, frozenset())
        if "active" in states:
            found.append(Inconsistency("closed_order_holds_stock", f"order {order_id}", f"it is {status}"))
        if status == "refunded" and "sold" in states:
            detail = "it was refunded but its units are still counted as sold"
            found.append(Inconsistency("refunded_order_stock_not_returned", f"order {order_id}", detail))

    for token in orders.find_unfinished_checkouts():
        detail = "its checkout stopped between its steps: the cart still lends it its lines"
        found.append(Inconsistency("checkout_unfinished", f"checkout {token}", detail))

    for product_id, (on_hand, reserved) in sorted(inventory.find_ledger_drift().items()):
        detail = f"levels minus ledger: on hand {on_hand:+}, reserved {reserved:+}"
        found.append(Inconsistency("ledger_drift", f"product {product_id}", detail))
    return found


def repair_inconsistencies() -> list[Inconsistency]:
    """Deliver the events still pending, then redo each missing step; returns what is still wrong afterwards.

    Every repair is the step that was missed, through the owning app's service, so it is safe to run while
    the shop is open and more than once.
    """
    outbox.deliver_pending()
    for problem in find_inconsistencies():
        try:
            _repair(problem)
        except Exception:  # one problem's trouble must not stop the others from being repaired
            logger.exception("Could not repair %s (%s).", problem.subject, problem.kind)
    return find_inconsistencies()


def _repair(problem: Inconsistency) -> None:
    if problem.kind == "checkout_unfinished":
        orders.settle_checkout(token=uuid.UUID(problem.subject.split()[-1]))
        return
    number = int(problem.subject.split()[-1])
    if problem.kind == "payment_succeeded_order_not_paid":
        try:
            orders.mark_order_paid(order_id=number)
        except orders.OrderNotPayable:
            refund_unpayable(Payment.objects.get(order_id=number, status=Status.SUCCEEDED))
    elif problem.kind == "payment_refunded_order_paid":
        orders.mark_order_refunded(order_id=number)
    elif problem.kind == "paid_order_stock_not_sold":
        inventory.commit_reservation(order_id=number)
    elif problem.kind == "closed_order_holds_stock":
        inventory.release_reservation(order_id=number)
    elif problem.kind == "refunded_order_stock_not_returned":
        inventory.return_sold_stock(order_id=number)
    elif problem.kind == "ledger_drift":
        inventory.repair_ledger_drift(product_id=number)
