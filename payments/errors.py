"""Payment errors: what a payment provider's refusal or absence means to our API."""

from ecommerce.errors import Conflict, DomainError
from orders.services import NoPaymentToRefund

__all__ = [
    "CardError",
    "InvalidPaymentToken",
    "InvalidWebhookPayload",
    "InvalidWebhookSignature",
    "NoPaymentToRefund",
    "PaymentAttemptsExhausted",
    "PaymentInProgress",
    "PaymentProviderUnavailable",
]


class PaymentProviderUnavailable(DomainError):
    """The provider timed out, could not be reached or answered with a server error; retry later."""

    status = 503
    code = "payment_provider_unavailable"
    default_message = "The payment provider is unavailable. Please try again later."


class CardError(DomainError):
    """The card was declined; ``code`` is the provider's reason (``insufficient_funds``, ``expired_card``...).

    ``reference`` is the provider's id of the failed payment, when it created one.
    """

    status = 402
    code = "card_declined"
    default_message = "Your card was declined."

    def __init__(self, message: str | None = None, *, code: str = "card_declined", reference: str = ""):
        super().__init__(message)
        self.code = code
        self.reference = reference


class InvalidPaymentToken(DomainError):
    """The provider does not know (or will not accept) the card token or payment method."""

    status = 400
    code = "invalid_payment_token"
    default_message = "The payment token is invalid."

    def __init__(self, message: str | None = None, *, attr: str = "token", extra: dict | None = None):
        super().__init__(message, attr=attr, extra=extra)


class PaymentInProgress(Conflict):
    """Another attempt to pay this order is still waiting for the provider's answer."""

    code = "payment_in_progress"
    default_message = "A payment for this order is already in progress. Please try again shortly."


class PaymentAttemptsExhausted(Conflict):
    """The order was declined MAX_DECLINED_PAYMENTS_PER_ORDER times: it takes no more attempts (card testing)."""

    code = "payment_attempts_exhausted"
    default_message = "This order was declined too many times and takes no more payment attempts."


class InvalidWebhookSignature(DomainError):
    """The webhook's ``Stripe-Signature`` is missing, wrong or too old, or no webhook secret is configured."""

    code = "invalid_signature"
    default_message = "The Stripe-Signature header is missing or invalid."


class InvalidWebhookPayload(DomainError):
    """A correctly signed webhook body that is not a Stripe event."""

    code = "invalid_payload"
    default_message = "The webhook body is not a Stripe event."
