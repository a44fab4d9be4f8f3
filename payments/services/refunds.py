"""Refunds: money given back at the provider, then recorded."""

from django.utils import timezone

from ecommerce.db import atomic
from orders import services as orders
from outbox import services as outbox
from payments.errors import NoPaymentToRefund, PaymentProviderUnavailable
from payments.gateways import ProviderEvent, gateway_for
from payments.models import Payment
from payments.services.provider_events import record_event

Status = Payment.Status


def refund_key(payment: Payment) -> str:
    return f"refund-{payment.idempotency_key}"


def refund_and_close(
    payment: Payment, *, reference: str, from_status: str, event: ProviderEvent | None = None, **failure
) -> None:
    """Refund a payment at the provider, then record it refunded. Raises PaymentProviderUnavailable."""
    gateway_for(payment.provider).refund(reference=reference, idempotency_key=refund_key(payment))
    with atomic("payments"):
        if event is not None:
            record_event(event)
        Payment.objects.filter(pk=payment.pk, status=from_status).update(
            status=Status.REFUNDED,
            provider_reference=reference,
            token="",
            in_flight_until=None,
            updated_at=timezone.now(),
            **failure,
        )


def refund_order_payment(*, order_id: int, actor_id: int | None = None, reason: str = "") -> None:
    """Give back the money of a paid order that staff cancelled; the order then becomes refunded and its stock
    returns (event ``payment.refunded``, delivered when the refund is recorded).

    The orders app's Refunder (installed at start-up). Raises NoPaymentToRefund (the order was not paid
    through us: nothing was refunded, the order is unchanged), InvalidTransition (the order is not paid),
    RefundProviderUnavailable (the provider could not be reached: the order stays paid).
    """
    order = orders.get_order(order_id=order_id)
    if order.status not in ("paid", "refunded"):
        raise orders.InvalidTransition(f"An order that is {order.status} cannot be refunded.")
    payment = Payment.objects.filter(order_id=order_id, status=Status.SUCCEEDED).first()
    if payment is None:
        # Refunded already (say, from the provider's dashboard): only the order is left to update.
        if not Payment.objects.filter(order_id=order_id, status=Status.REFUNDED, failure_code="").exists():
            raise NoPaymentToRefund()
        orders.mark_order_refunded(order_id=order_id, actor_id=actor_id, reason=reason)
        return
    try:
        gateway_for(payment.provider).refund(reference=payment.provider_reference, idempotency_key=refund_key(payment))
    except PaymentProviderUnavailable as unavailable:
        raise orders.RefundProviderUnavailable() from unavailable
    with atomic("payments"):
        refunded = Payment.objects.filter(pk=payment.pk, status=Status.SUCCEEDED).update(
            status=Status.REFUNDED, updated_at=timezone.now()
        )
        if refunded:
            publish_refund(payment, actor_id=actor_id, reason=reason)


def publish_refund(payment: Payment, *, actor_id: int | None = None, reason: str = "") -> None:
    """The event ``payment.refunded``, in the transaction that records the refund: orders then marks the
    order refunded, and inventory returns its stock."""
    outbox.publish(
        "payment.refunded",
        {"payment_id": payment.pk, "order_id": payment.order_id, "actor_id": actor_id, "reason": reason},
        app_label="payments",
    )
