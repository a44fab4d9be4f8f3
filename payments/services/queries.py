"""Reading payments as plain data."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from payments import selectors
from payments.models import Payment


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


def payment_info(payment: Payment) -> PaymentInfo:
    """Plain data of a payment."""
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


def list_payments(*, order_id: int, user_id: int | None = None) -> list[PaymentInfo]:
    """The payments of one order, newest first; ``user_id=None`` for any order (staff).

    Raises OrderNotFound (unknown order, or not ``user_id``'s).
    """
    return [payment_info(p) for p in selectors.filter_payments(viewer_id=user_id, order_id=order_id)]


def list_user_payments(*, user_id: int) -> list[PaymentInfo]:
    """Every payment the user made, oldest first (for their data export)."""
    return [payment_info(p) for p in Payment.objects.filter(user_id=user_id).order_by("created_at", "id")]
