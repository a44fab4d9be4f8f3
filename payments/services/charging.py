"""Charging an order: the payment row, the charge request, and recording what the provider answered."""

import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from accounts import services as accounts
from ecommerce.db import DATABASE_OUTAGES, atomic, execute_on_fresh_connection
from ecommerce.errors import DomainError
from orders import services as orders
from outbox import services as outbox
from payments.errors import CardError, InvalidPaymentToken, PaymentAttemptsExhausted, PaymentInProgress
from payments.gateways import PaymentGateway, ProviderEvent, gateway_for, get_gateway
from payments.models import Payment
from payments.services.provider_events import record_event
from payments.services.queries import PaymentInfo, payment_info
from payments.services.refunds import refund_and_close

logger = logging.getLogger(__name__)

Status = Payment.Status

# Stripe keeps idempotency keys for at least 24 hours. Past that, re-sending a charge request could
# charge again, so an older payment whose outcome is unknown is left for a person to look up.
REPLAY_WINDOW = timedelta(hours=23)

ORDER_NOT_PAYABLE_REFUNDED = (
    "The order could not be completed (it expired and its stock is gone, or it was cancelled); "
    "the payment has been refunded."
)
AUTHENTICATION_REQUIRED = "This card needs authentication (3-D Secure), which we cannot offer. Try another card."


@dataclass(frozen=True)
class _Outcome:
    """What the provider made of a payment's charge request: a success, or the error that failed it."""

    reference: str
    error: CardError | InvalidPaymentToken | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


def pay_order(*, user_id: int, order_id: int, token: str, request_key: str = "") -> PaymentInfo:
    """Charge the caller's pending order with a card token, once, and mark the order paid.

    A payment of the caller's left ``processing`` (a timeout, a crash, a database outage after the
    charge) is settled first: its own charge request is re-sent, which the provider answers without
    charging again; if it succeeded, it is the answer. So is a success made by an earlier request with
    the same ``request_key`` (the client's Idempotency-Key) whose answer was lost, or one nobody was told of.
    Raises EmailNotVerified (403: the payer has not confirmed their email address), OrderNotFound,
    OrderNotPayable, AlreadyPaid, PaymentInProgress (409, with Retry-After), PaymentAttemptsExhausted (the
    order was declined MAX_DECLINED_PAYMENTS_PER_ORDER times; nothing is sent), CardError (402),
    InvalidPaymentToken (400), PaymentProviderUnavailable (503: the payment stays processing).
    """
    accounts.require_verified_email(user_id=user_id)
    earlier_success = Q(status=Status.SUCCEEDED, outcome_reported=False)
    if request_key:
        earlier_success |= Q(status=Status.SUCCEEDED, request_key=request_key)
    earlier = (
        Payment.objects.filter(order_id=order_id, user_id=user_id)
        .filter(Q(status=Status.PROCESSING) | earlier_success)
        .first()
    )
    if earlier is not None:
        if earlier.status == Status.PROCESSING:
            earlier = settle_unfinished(earlier)
        if earlier.status == Status.SUCCEEDED and (
            _take_report(earlier) or (request_key and earlier.request_key == request_key)
        ):
            return payment_info(earlier)

    due = orders.get_amount_due(order_id=order_id, user_id=user_id)
    gateway = get_gateway()
    payment = _start_payment(due=due, user_id=user_id, token=token, provider=gateway.name, request_key=request_key)
    outcome = _send_charge(payment, gateway)
    payment = _record_outcome(payment, outcome, reported=True)
    if payment.status == Status.SUCCEEDED:
        _take_report(payment)  # this request's own attempt, even if the webhook recorded it first
        return payment_info(payment)
    if outcome.error is not None:
        raise outcome.error
    raise orders.OrderNotPayable(ORDER_NOT_PAYABLE_REFUNDED)


def _take_report(payment: Payment) -> bool:
    """Claim the telling of a success nobody was told of: True for one request only (the others: already paid)."""
    if payment.outcome_reported:
        return False
    return bool(
        Payment.objects.filter(pk=payment.pk, status=Status.SUCCEEDED, outcome_reported=False).update(
            outcome_reported=True
        )
    )


def _start_payment(*, due: orders.AmountDue, user_id: int, token: str, provider: str, request_key: str = "") -> Payment:
    """Commit a ``processing`` payment for the order before any money moves.

    Raises AlreadyPaid or PaymentInProgress when the order has a succeeded or processing payment, or
    PaymentAttemptsExhausted. The declines are counted after the insert: the one live payment an order may have
    makes a concurrent attempt wait for (or fail on) this one, so no two attempts count the same declines.
    """
    try:
        with atomic("payments"):
            payment = Payment.objects.create(
                order_id=due.order_id,
                user_id=user_id,
                amount=due.total,
                currency=due.currency,
                provider=provider,
                token=token,
                in_flight_until=_lease_end(),
                request_key=request_key,
                # Written with the row: the order's id and a random part (ids start again after a database
                # reset, the provider's keys do not; an order may have several attempts).
                idempotency_key=f"payment-o{due.order_id}-{secrets.token_hex(8)}",
            )
            declined = Payment.objects.filter(order_id=due.order_id, status=Status.FAILED).count()
            if declined >= settings.MAX_DECLINED_PAYMENTS_PER_ORDER:
                raise PaymentAttemptsExhausted()
    except IntegrityError:
        live = Payment.objects.filter(order_id=due.order_id, status__in=Payment.LIVE_STATUSES).first()
        if live is None:
            raise
        if live.status == Status.SUCCEEDED:
            raise orders.AlreadyPaid() from None
        raise _in_progress(live) from None
    return payment


def _in_progress(payment: Payment, message: str | None = None) -> PaymentInProgress:
    """PaymentInProgress, with how long to wait: until the running charge request must have ended."""
    wait = (payment.in_flight_until - timezone.now()).total_seconds() if payment.in_flight_until else 1
    return PaymentInProgress(message, extra={"retry_after": max(1, math.ceil(wait))})


def _lease_end() -> datetime:
    """Until when a charge request sent now may still be running: connect and read timeouts, and a margin."""
    return timezone.now() + timedelta(seconds=2 * float(settings.STRIPE_TIMEOUT_SECONDS) + 5)


def _send_charge(payment: Payment, gateway: PaymentGateway) -> _Outcome:
    """Send (or re-send, with the same idempotency key) the payment's charge request, or look it up.

    Raises PaymentProviderUnavailable; the payment then stays processing and may be sent again.
    """
    try:
        if payment.provider_reference:
            result = gateway.retrieve(reference=payment.provider_reference)
        else:
            result = gateway.charge(
                amount=payment.amount,
                currency=payment.currency,
                token=payment.token,
                idempotency_key=payment.idempotency_key,
                metadata={"order_id": str(payment.order_id), "payment_id": str(payment.pk)},
            )
    except (CardError, InvalidPaymentToken) as refused:
        return _Outcome(reference=getattr(refused, "reference", ""), error=refused)
    except Exception:
        Payment.objects.filter(pk=payment.pk, status=Status.PROCESSING).update(in_flight_until=None)
        raise
    if result.status == "succeeded":
        return _Outcome(reference=result.reference)
    if result.status == "failed":
        code = result.failure_code or "card_declined"
        declined = CardError(result.failure_message or None, code=code, reference=result.reference)
        return _Outcome(result.reference, declined)
    # Waiting for the customer to authenticate: we offer no way to, so this attempt cannot succeed.
    declined = CardError(AUTHENTICATION_REQUIRED, code="authentication_required", reference=result.reference)
    return _Outcome(result.reference, declined)


def on_order_payment_rejected(event: outbox.Event) -> None:
    """``order.payment_rejected``: the order could not take a payment recorded as succeeded; give the money back.

    Raises PaymentProviderUnavailable (the relay delivers the event again later).
    """
    payment = Payment.objects.filter(pk=event.payload["payment_id"], status=Status.SUCCEEDED).first()
    if payment is not None:
        refund_unpayable(payment)


def refund_unpayable(payment: Payment) -> None:
    """Give back a succeeded payment whose order cannot be paid any more. Raises PaymentProviderUnavailable."""
    logger.warning("Payment %s succeeded but order %s cannot be paid: refunding.", payment.pk, payment.order_id)
    refund_and_close(
        payment,
        reference=payment.provider_reference,
        from_status=Status.SUCCEEDED,
        failure_code=orders.OrderNotPayable.code,
        failure_message=ORDER_NOT_PAYABLE_REFUNDED,
    )


def _record_outcome(
    payment: Payment, outcome: _Outcome, *, reported: bool = False, event: ProviderEvent | None = None
) -> Payment:
    """Record what the provider answered for a processing payment; returns the payment as it now is.

    Raises OrderNotPayable after refunding a success that came too late for the order.
    """
    try:
        if outcome.succeeded:
            return record_success(payment, reference=outcome.reference, reported=reported, event=event)
        if isinstance(outcome.error, InvalidPaymentToken):
            # Refused before any payment existed (the token is unknown): there is no attempt to keep or show.
            Payment.objects.filter(pk=payment.pk, status=Status.PROCESSING).delete()
            return payment
        record_failure(payment, reference=outcome.reference, error=outcome.error, event=event)
        return Payment.objects.get(pk=payment.pk)
    except DATABASE_OUTAGES:
        # The provider has answered, but we could not write it down: no request is in flight any more,
        # so the payer's retry may settle the payment at once (asking the provider again, which replays).
        _end_lease_on_fresh_connection(payment)
        raise


def _end_lease_on_fresh_connection(payment: Payment) -> None:
    table = Payment._meta.db_table
    execute_on_fresh_connection(
        Payment,
        f"UPDATE {table} SET in_flight_until = NULL WHERE id = %s AND status = %s",  # noqa: S608
        [payment.pk, Status.PROCESSING],
    )


def settle_unfinished(payment: Payment) -> Payment:
    """Find out what became of a processing payment whose request was cut short, and record it.

    Raises PaymentInProgress (a request for it is still running, or it is too old to re-send safely),
    PaymentProviderUnavailable, OrderNotPayable (it succeeded too late, and was refunded).
    """
    if not payment.provider_reference and payment.created_at < timezone.now() - REPLAY_WINDOW:
        raise PaymentInProgress("An earlier payment for this order is being checked by our staff.")  # no retry
    claimed = (
        Payment.objects.filter(pk=payment.pk, status=Status.PROCESSING)
        .filter(Q(in_flight_until__isnull=True) | Q(in_flight_until__lte=timezone.now()))
        .update(in_flight_until=_lease_end())
    )
    if not claimed:
        current = Payment.objects.get(pk=payment.pk)
        if current.status == Status.PROCESSING:
            raise _in_progress(current)
        return current
    return _record_outcome(payment, _send_charge(payment, gateway_for(payment.provider)))


class _SucceededAfterFailure(Exception):
    """The provider took money for an attempt we had recorded as failed."""


def record_success(
    payment: Payment, *, reference: str, reported: bool = False, event: ProviderEvent | None = None
) -> Payment:
    """Payment succeeded, with the event ``payment.succeeded`` (on which orders marks the order paid, and
    inventory then sells its stock); or, if the order cannot be paid any more, the money refunded.
    Idempotent: a payment already recorded as succeeded is returned as it is.

    Raises OrderNotPayable (refunded), PaymentProviderUnavailable (the refund could not be sent; the
    payment stays processing, and settling it again sends the same refund).
    """
    changes = {
        "status": Status.SUCCEEDED,
        "provider_reference": reference,
        "token": "",
        "in_flight_until": None,
        "outcome_reported": reported,
        "updated_at": timezone.now(),
    }
    won = 0
    try:
        _prepare_order(payment)
        with atomic("payments"):
            if event is not None and not record_event(event):
                return Payment.objects.get(pk=payment.pk)
            won = Payment.objects.filter(pk=payment.pk, status=Status.PROCESSING).update(**changes)
            if won:
                outbox.publish(
                    "payment.succeeded", {"payment_id": payment.pk, "order_id": payment.order_id}, app_label="payments"
                )
            elif Payment.objects.filter(pk=payment.pk, status=Status.FAILED).exists():
                raise _SucceededAfterFailure()
    except orders.OrderNotPayable as not_payable:
        logger.warning("Payment %s succeeded but order %s cannot be paid: refunding.", payment.pk, payment.order_id)
        refund_and_close(
            payment,
            reference=reference,
            from_status=Status.PROCESSING,
            event=event,
            failure_code=orders.OrderNotPayable.code,
            failure_message=ORDER_NOT_PAYABLE_REFUNDED,
        )
        raise orders.OrderNotPayable(ORDER_NOT_PAYABLE_REFUNDED) from not_payable
    except _SucceededAfterFailure:
        logger.warning("Payment %s succeeded at the provider after it failed here: refunding.", payment.pk)
        refund_and_close(payment, reference=reference, from_status=Status.FAILED, event=event)
    if won:  # the row is the processing payment with these changes: not read back
        for field, value in changes.items():
            setattr(payment, field, value)
        return payment
    return Payment.objects.get(pk=payment.pk)


def _prepare_order(payment: Payment) -> None:
    """Make sure the order can take a success about to be recorded (``orders.reserve_for_payment``).

    A pending order can as it is: one read of its status. Any other is asked to, only while the payment is still
    processing (else there is no success to record, and an expired order's stock must not be held again for it).
    """
    status = orders.get_order_statuses(order_ids=[payment.order_id]).get(payment.order_id)
    if status != "pending" and Payment.objects.filter(pk=payment.pk, status=Status.PROCESSING).exists():
        orders.reserve_for_payment(order_id=payment.order_id)


def record_failure(payment: Payment, *, reference: str, error: DomainError, event: ProviderEvent | None = None) -> None:
    """A processing payment failed; the order stays payable with another card. Idempotent."""
    with atomic("payments"):
        if event is not None and not record_event(event):
            return
        changes: dict[str, Any] = {
            "status": Status.FAILED,
            "failure_code": error.code,
            "failure_message": error.message[:500],
            "token": "",
            "in_flight_until": None,
            "updated_at": timezone.now(),
        }
        if reference:
            changes["provider_reference"] = reference
        Payment.objects.filter(pk=payment.pk, status=Status.PROCESSING).update(**changes)
