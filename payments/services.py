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
"""

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ecommerce.errors import DomainError
from ecommerce.money import to_minor_units
from orders import services as orders
from payments import selectors
from payments.errors import (
    CardError,
    InvalidPaymentToken,
    InvalidWebhookPayload,
    InvalidWebhookSignature,
    NoPaymentToRefund,
    PaymentInProgress,
    PaymentProviderUnavailable,
)
from payments.gateways import DummyGateway, PaymentGateway, _public_decline_code, get_gateway
from payments.models import Payment, WebhookEvent

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
class PaymentInfo:
    id: int
    order_id: int
    user_id: int
    amount: Decimal
    currency: str
    status: str  # processing | succeeded | failed | refunded
    provider: str  # stripe | dummy
    provider_reference: str
    failure_code: str
    failure_message: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class _Outcome:
    """What the provider made of a payment's charge request: a success, or the error that failed it."""

    reference: str
    error: CardError | InvalidPaymentToken | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class _Event:
    """A verified provider event."""

    id: str
    type: str
    object: dict[str, Any]


def _info(payment: Payment) -> PaymentInfo:
    return PaymentInfo(
        id=payment.pk,
        order_id=payment.order_id,
        user_id=payment.user_id,
        amount=payment.amount,
        currency=payment.currency,
        status=payment.status,
        provider=payment.provider,
        provider_reference=payment.provider_reference,
        failure_code=payment.failure_code,
        failure_message=payment.failure_message,
        created_at=payment.created_at,
        updated_at=payment.updated_at,
    )


# --- Queries ---------------------------------------------------------------------------------------


def list_payments(*, order_id: int, user_id: int | None = None) -> list[PaymentInfo]:
    """The payments of one order, newest first; ``user_id=None`` for any order (staff).

    Raises OrderNotFound (unknown order, or not ``user_id``'s).
    """
    return [_info(p) for p in selectors.filter_payments(viewer_id=user_id, order_id=order_id)]


# --- Paying an order -------------------------------------------------------------------------------


def pay_order(*, user_id: int, order_id: int, token: str) -> PaymentInfo:
    """Charge the caller's pending order with a card token, once, and mark the order paid.

    A payment of the caller's left ``processing`` by a timeout is settled first (its own charge request
    re-sent, which the provider answers without charging again); if it succeeded, it is the answer.
    Raises OrderNotFound, OrderNotPayable, AlreadyPaid, PaymentInProgress (409), CardError (402),
    InvalidPaymentToken (400), PaymentProviderUnavailable (503: the payment stays processing).
    """
    earlier = (
        Payment.objects.filter(order_id=order_id, user_id=user_id)
        .filter(Q(status=Status.PROCESSING) | Q(status=Status.SUCCEEDED, outcome_reported=False))
        .first()
    )
    if earlier is not None:
        if earlier.status == Status.PROCESSING:
            earlier = _settle_unfinished(earlier)
        if earlier.status == Status.SUCCEEDED and _take_report(earlier):
            return _info(earlier)

    order = orders.get_payable_order(order_id=order_id, user_id=user_id)
    gateway = get_gateway()
    payment = _start_payment(order=order, user_id=user_id, token=token, provider=gateway.name)
    outcome = _send_charge(payment, gateway)
    payment = _record_outcome(payment, outcome, reported=True)
    if payment.status == Status.SUCCEEDED:
        _take_report(payment)  # this request's own attempt, even if the webhook recorded it first
        return _info(payment)
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


def _start_payment(*, order: orders.OrderInfo, user_id: int, token: str, provider: str) -> Payment:
    """Commit a ``processing`` payment for the order before any money moves.

    Raises AlreadyPaid or PaymentInProgress when the order has a succeeded or processing payment.
    """
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order_id=order.id,
                user_id=user_id,
                amount=order.total,
                currency=order.currency,
                provider=provider,
                token=token,
                in_flight_until=_lease_end(),
            )
            # Our id, plus a random part: ids start again after a database reset, the provider's keys do not.
            payment.idempotency_key = f"payment-{payment.pk}-{secrets.token_hex(4)}"
            payment.save(update_fields=["idempotency_key"])
    except IntegrityError:
        live = Payment.objects.filter(order_id=order.id, status__in=Payment.LIVE_STATUSES).first()
        if live is None:
            raise
        if live.status == Status.SUCCEEDED:
            raise orders.AlreadyPaid() from None
        raise PaymentInProgress() from None
    return payment


def _lease_end() -> datetime:
    """Until when a charge request sent now may still be running: connect and read timeouts, and a margin."""
    return timezone.now() + timedelta(seconds=2 * float(settings.STRIPE_TIMEOUT_SECONDS) + 5)


def _gateway_for(payment: Payment) -> PaymentGateway:
    """The gateway of the provider that took this payment."""
    gateway = get_gateway()
    if gateway.name == payment.provider:
        return gateway
    if payment.provider == Payment.Provider.DUMMY:
        return DummyGateway()
    logger.error("Payment %s was taken with %s, which is not the configured gateway.", payment.pk, payment.provider)
    raise PaymentProviderUnavailable()


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


def _record_outcome(payment: Payment, outcome: _Outcome, *, reported: bool = False, event=None) -> Payment:
    """Record what the provider answered for a processing payment; returns the payment as it now is.

    Raises OrderNotPayable after refunding a success that came too late for the order.
    """
    if outcome.succeeded:
        return _record_success(payment, reference=outcome.reference, reported=reported, event=event)
    _record_failure(payment, reference=outcome.reference, error=outcome.error, event=event)
    return Payment.objects.get(pk=payment.pk)


def _settle_unfinished(payment: Payment) -> Payment:
    """Find out what became of a processing payment whose request was cut short, and record it.

    Raises PaymentInProgress (a request for it is still running, or it is too old to re-send safely),
    PaymentProviderUnavailable, OrderNotPayable (it succeeded too late, and was refunded).
    """
    if not payment.provider_reference and payment.created_at < timezone.now() - REPLAY_WINDOW:
        raise PaymentInProgress("An earlier payment for this order is being checked by our staff.")
    claimed = (
        Payment.objects.filter(pk=payment.pk, status=Status.PROCESSING)
        .filter(Q(in_flight_until__isnull=True) | Q(in_flight_until__lte=timezone.now()))
        .update(in_flight_until=_lease_end())
    )
    if not claimed:
        current = Payment.objects.get(pk=payment.pk)
        if current.status == Status.PROCESSING:
            raise PaymentInProgress()
        return current
    return _record_outcome(payment, _send_charge(payment, _gateway_for(payment)))


class _SucceededAfterFailure(Exception):
    """The provider took money for an attempt we had recorded as failed."""


def _record_success(payment: Payment, *, reference: str, reported: bool = False, event=None) -> Payment:
    """Payment succeeded and order paid, in one transaction; or, if the order cannot be paid any more,
    the money refunded. Idempotent: a payment already recorded as succeeded is returned as it is.

    Raises OrderNotPayable (refunded), PaymentProviderUnavailable (the refund could not be sent; the
    payment stays processing, and settling it again sends the same refund).
    """
    try:
        with transaction.atomic():
            if event is not None and not _record_event(event):
                return Payment.objects.get(pk=payment.pk)
            won = Payment.objects.filter(pk=payment.pk, status=Status.PROCESSING).update(
                status=Status.SUCCEEDED,
                provider_reference=reference,
                token="",
                in_flight_until=None,
                outcome_reported=reported,
                updated_at=timezone.now(),
            )
            if won:
                orders.mark_order_paid(order_id=payment.order_id)
            elif Payment.objects.filter(pk=payment.pk, status=Status.FAILED).exists():
                raise _SucceededAfterFailure()
    except orders.OrderNotPayable as not_payable:
        logger.warning("Payment %s succeeded but order %s cannot be paid: refunding.", payment.pk, payment.order_id)
        _refund_and_close(
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
        _refund_and_close(payment, reference=reference, from_status=Status.FAILED, event=event)
    return Payment.objects.get(pk=payment.pk)


def _record_failure(payment: Payment, *, reference: str, error: DomainError, event=None) -> None:
    """A processing payment failed; the order stays payable with another card. Idempotent."""
    with transaction.atomic():
        if event is not None and not _record_event(event):
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


def _refund_key(payment: Payment) -> str:
    return f"refund-{payment.idempotency_key}"


def _refund_and_close(payment: Payment, *, reference: str, from_status: str, event=None, **failure) -> None:
    """Refund a payment at the provider, then record it refunded. Raises PaymentProviderUnavailable."""
    _gateway_for(payment).refund(reference=reference, idempotency_key=_refund_key(payment))
    with transaction.atomic():
        if event is not None:
            _record_event(event)
        Payment.objects.filter(pk=payment.pk, status=from_status).update(
            status=Status.REFUNDED,
            provider_reference=reference,
            token="",
            in_flight_until=None,
            updated_at=timezone.now(),
            **failure,
        )


# --- Refunds asked for by orders -------------------------------------------------------------------


def refund_order_payment(sender=None, *, order_id: int, actor_id: int | None = None, **kwargs) -> None:
    """Give back the money of a paid order that staff cancelled, then mark the order refunded (stock returned).

    The receiver of ``orders.services.order_refund_requested``. Raises NoPaymentToRefund (the order was
    not paid through us: nothing was refunded, the order is unchanged), InvalidTransition (the order is
    not paid), PaymentProviderUnavailable (the order stays paid).
    """
    order = orders.get_order(order_id=order_id)
    if order.status not in ("paid", "refunded"):
        raise orders.InvalidTransition(f"An order that is {order.status} cannot be refunded.")
    payment = Payment.objects.filter(order_id=order_id, status=Status.SUCCEEDED).first()
    if payment is None:
        # Refunded already (say, from the provider's dashboard): only the order is left to update.
        if not Payment.objects.filter(order_id=order_id, status=Status.REFUNDED, failure_code="").exists():
            raise NoPaymentToRefund()
        orders.mark_order_refunded(order_id=order_id, actor_id=actor_id)
        return
    _gateway_for(payment).refund(reference=payment.provider_reference, idempotency_key=_refund_key(payment))
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk, status=Status.SUCCEEDED).update(
            status=Status.REFUNDED, updated_at=timezone.now()
        )
        orders.mark_order_refunded(order_id=order_id, actor_id=actor_id)


# --- Webhooks --------------------------------------------------------------------------------------


def apply_webhook_event(*, payload: bytes, signature: str | None) -> str:
    """Verify a Stripe webhook and apply its event once; returns "applied", "duplicate" or "ignored".

    Raises InvalidWebhookSignature, InvalidWebhookPayload, PaymentProviderUnavailable (a refund it
    needed could not be sent: nothing is recorded, and Stripe delivers the event again later).
    """
    event = _verified_event(payload, signature)
    handler = _EVENT_HANDLERS.get(event.type)
    if handler is None:
        return "ignored"
    if WebhookEvent.objects.filter(event_id=event.id).exists():
        return "duplicate"
    handler(event)
    return "applied"


def _verified_event(payload: bytes, signature: str | None) -> _Event:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("A webhook arrived but STRIPE_WEBHOOK_SECRET is not set: it cannot be verified.")
        raise InvalidWebhookSignature()
    if not signature:
        raise InvalidWebhookSignature()
    try:
        text = payload.decode("utf-8")  # Stripe signs UTF-8 JSON; anything else is not from Stripe
        event = stripe.Webhook.construct_event(text, signature, secret)
    except (UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
        raise InvalidWebhookSignature() from exc
    except Exception as exc:  # signed, but not an event: nothing a client sends may cause a 500
        raise InvalidWebhookPayload() from exc
    data = event.to_dict()
    obj = data.get("data", {}).get("object") if isinstance(data.get("data"), dict) else None
    if not (isinstance(data.get("id"), str) and isinstance(data.get("type"), str) and isinstance(obj, dict)):
        raise InvalidWebhookPayload()
    return _Event(id=data["id"], type=data["type"], object=obj)


def _record_event(event: _Event) -> bool:
    """Note that an event is applied, in the caller's transaction; False if it was already."""
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(event_id=event.id, type=event.type)
    except IntegrityError:
        return False
    return True


def _find_payment(obj: dict[str, Any], *, reference: Any) -> Payment | None:
    """Our Stripe payment that a PaymentIntent (or a Charge of it) is about: by reference, else by metadata."""
    if not (isinstance(reference, str) and reference):
        return None
    payment = Payment.objects.filter(provider=Payment.Provider.STRIPE, provider_reference=reference).first()
    if payment is not None:
        return payment
    metadata = obj.get("metadata")
    payment_id = metadata.get("payment_id") if isinstance(metadata, dict) else None
    if not (isinstance(payment_id, str) and payment_id.isdigit()):
        return None
    payment = Payment.objects.filter(pk=int(payment_id), provider=Payment.Provider.STRIPE)
    payment = payment.filter(provider_reference="").first()
    # The same ids exist in other databases (a test environment on the same Stripe account): check the money too.
    if payment is None or (obj.get("amount"), obj.get("currency")) != (
        to_minor_units(payment.amount, payment.currency),
        payment.currency.lower(),
    ):
        return None
    return payment


def _on_payment_intent_succeeded(event: _Event) -> None:
    intent = event.object
    payment = _find_payment(intent, reference=intent.get("id"))
    if payment is None:
        _record_alone(event)
        return
    with contextlib.suppress(orders.OrderNotPayable):  # refunded: the event is applied
        _record_success(payment, reference=intent["id"], event=event)


def _on_payment_intent_failed(event: _Event) -> None:
    intent = event.object
    payment = _find_payment(intent, reference=intent.get("id"))
    if payment is None:
        _record_alone(event)
        return
    error = intent.get("last_payment_error") if isinstance(intent.get("last_payment_error"), dict) else {}
    code = _public_decline_code(error.get("code"), error.get("decline_code"))
    declined = CardError(str(error.get("message") or "") or None, code=code, reference=intent["id"])
    _record_failure(payment, reference=intent["id"], error=declined, event=event)


def _on_charge_refunded(event: _Event) -> None:
    charge = event.object
    payment = _find_payment(charge, reference=charge.get("payment_intent"))
    if payment is None or charge.get("refunded") is not True:  # unknown, or partly refunded: not ours to act on
        _record_alone(event)
        return
    with transaction.atomic():
        if not _record_event(event):
            return
        refunded = Payment.objects.filter(pk=payment.pk, status=Status.SUCCEEDED).update(
            status=Status.REFUNDED, updated_at=timezone.now()
        )
        if not refunded:
            return
        try:
            with transaction.atomic():
                orders.mark_order_refunded(order_id=payment.order_id)
        except orders.InvalidTransition:
            logger.warning(
                "Payment %s was refunded at the provider, but order %s cannot become refunded: staff must settle it.",
                payment.pk,
                payment.order_id,
            )


def _record_alone(event: _Event) -> None:
    with transaction.atomic():
        _record_event(event)


_EVENT_HANDLERS = {
    "payment_intent.succeeded": _on_payment_intent_succeeded,
    "payment_intent.payment_failed": _on_payment_intent_failed,
    "charge.refunded": _on_charge_refunded,
}


# --- Reconciliation --------------------------------------------------------------------------------


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
            settled = _settle_unfinished(payment)
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
