"""Stripe's webhook events: verified next to the gateway, applied here once each."""

import contextlib
import logging
from typing import Any

from django.utils import timezone

from ecommerce.db import atomic
from ecommerce.money import to_minor_units
from orders import services as orders
from payments.errors import CardError
from payments.gateways import ProviderEvent, public_decline_code, verify_webhook_event
from payments.models import Payment
from payments.services.charging import record_failure, record_success
from payments.services.provider_events import already_applied, record_event, record_event_alone
from payments.services.refunds import publish_refund

logger = logging.getLogger(__name__)

Status = Payment.Status


def apply_webhook_event(*, payload: bytes, signature: str | None) -> str:
    """Verify a Stripe webhook and apply its event once; returns "applied", "duplicate" or "ignored".

    Raises InvalidWebhookSignature, InvalidWebhookPayload, PaymentProviderUnavailable (a refund it
    needed could not be sent: nothing is recorded, and Stripe delivers the event again later).
    """
    event = verify_webhook_event(payload=payload, signature=signature)
    handler = _EVENT_HANDLERS.get(event.type)
    if handler is None:
        return "ignored"
    if already_applied(event):
        return "duplicate"
    handler(event)
    return "applied"


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


def _on_payment_intent_succeeded(event: ProviderEvent) -> None:
    intent = event.object
    payment = _find_payment(intent, reference=intent.get("id"))
    if payment is None:
        record_event_alone(event)
        return
    with contextlib.suppress(orders.OrderNotPayable):  # refunded: the event is applied
        record_success(payment, reference=intent["id"], event=event)


def _on_payment_intent_failed(event: ProviderEvent) -> None:
    intent = event.object
    payment = _find_payment(intent, reference=intent.get("id"))
    if payment is None:
        record_event_alone(event)
        return
    error = intent.get("last_payment_error") if isinstance(intent.get("last_payment_error"), dict) else {}
    code = public_decline_code(error.get("code"), error.get("decline_code"))
    declined = CardError(str(error.get("message") or "") or None, code=code, reference=intent["id"])
    record_failure(payment, reference=intent["id"], error=declined, event=event)


def _on_charge_refunded(event: ProviderEvent) -> None:
    charge = event.object
    payment = _find_payment(charge, reference=charge.get("payment_intent"))
    if payment is None or charge.get("refunded") is not True:  # unknown, or partly refunded: not ours to act on
        record_event_alone(event)
        return
    with atomic("payments"):
        if not record_event(event):
            return
        refunded = Payment.objects.filter(pk=payment.pk, status=Status.SUCCEEDED).update(
            status=Status.REFUNDED, updated_at=timezone.now()
        )
        if refunded:
            publish_refund(payment)


_EVENT_HANDLERS = {
    "payment_intent.succeeded": _on_payment_intent_succeeded,
    "payment_intent.payment_failed": _on_payment_intent_failed,
    "charge.refunded": _on_charge_refunded,
}
