"""Reconciliation: settling the payments a timeout or a crashed worker left processing."""

import logging
from datetime import timedelta

from django.utils import timezone

from orders import services as orders
from payments.errors import PaymentInProgress, PaymentProviderUnavailable
from payments.models import Payment
from payments.services.charging import REPLAY_WINDOW, settle_unfinished

logger = logging.getLogger(__name__)

Status = Payment.Status


def reconcile_processing_payments(*, older_than: timedelta = timedelta(minutes=1)) -> dict[str, int]:
    """Settle the payments left processing for longer than ``older_than`` (a timeout, a crashed worker).

    Each is asked of the provider again (looked up, or its charge request re-sent with its idempotency
    key) and recorded. Safe to run at any time. Returns counts by result: succeeded, failed, refunded,
    and, still processing, unavailable (provider), in_progress (a request is running), needs_review
    (too old to re-send safely: look it up at the provider by its payment_id metadata), errors.
    """
    counts = dict.fromkeys(["succeeded", "failed", "refunded", "unavailable", "in_progress", "needs_review"], 0)
    counts["errors"] = 0
    now = timezone.now()
    for payment in Payment.objects.filter(status=Status.PROCESSING, created_at__lte=now - older_than).order_by("pk"):
        if not payment.provider_reference and payment.created_at < now - REPLAY_WINDOW:
            logger.error("Payment %s is too old to re-send its charge: check it at the provider.", payment.pk)
            counts["needs_review"] += 1
            continue
        try:
            settled = settle_unfinished(payment)
        except PaymentProviderUnavailable:
            counts["unavailable"] += 1
        except PaymentInProgress:
            counts["in_progress"] += 1
        except orders.OrderNotPayable:
            counts["refunded"] += 1
        except Exception:  # one payment's trouble must not stop the others from being settled
            logger.exception("Could not settle payment %s.", payment.pk)
            counts["errors"] += 1
        else:
            counts[settled.status] = counts.get(settled.status, 0) + 1
    return counts
