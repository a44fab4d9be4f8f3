"""Payments: charging orders through a provider, its webhooks, reconciliation and refunds. The public interface.

An order is charged at most once, whatever the retries, timeouts, crashes and concurrent requests:

- a Payment row (status ``processing``) is committed *before* the provider is called, and a partial
  unique index allows one ``processing`` or ``succeeded`` payment per order, so two requests cannot
  both start a charge;
- every charge request of a payment carries that payment's own idempotency key, so a request re-sent
  after a timeout (by a retry, the reconciler or the next attempt) gets the provider's first answer
  instead of a second charge; only one request per payment is sent at a time (``in_flight_until``);
- the outcome is recorded with compare-and-set updates (``status=processing -> ...``), so the API, the
  webhook and the reconciler racing each other record it once;
- money taken for an order that can no longer be shipped (it expired and its stock is gone, or it was
  cancelled) is refunded at once, with an idempotency key of its own.

The provider is never called inside a database transaction.

The modules of this package, by seam: ``charging`` (paying an order, recording what the provider
answered), ``refunds``, ``webhooks`` (the provider's events), ``reconciliation`` (payments a timeout
or a crash left unsettled), ``consistency`` (the cross-app invariants) and ``queries``.
Other apps import this package only.
"""

from payments.gateways import TEST_CARDS
from payments.services.charging import pay_order
from payments.services.consistency import Inconsistency, find_inconsistencies, repair_inconsistencies
from payments.services.queries import PaymentInfo, list_payments, list_user_payments
from payments.services.reconciliation import reconcile_processing_payments
from payments.services.refunds import refund_order_payment
from payments.services.webhooks import apply_webhook_event

__all__ = [
    "TEST_CARDS",
    "Inconsistency",
    "PaymentInfo",
    "apply_webhook_event",
    "find_inconsistencies",
    "list_payments",
    "list_user_payments",
    "pay_order",
    "reconcile_processing_payments",
    "refund_order_payment",
    "repair_inconsistencies",
]
