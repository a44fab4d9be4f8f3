"""Payment gateways: charge, look up and refund card payments, through Stripe or offline.

Services get one from ``get_gateway()``. Amounts enter as ``Decimal`` and reach the provider in minor
units; every provider failure leaves this module as a ``payments.errors`` domain error, except
integration bugs (bad parameters, a wrong API key, a reused idempotency key), which propagate.
"""

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ecommerce.money import to_minor_units
from payments.errors import (
    CardError,
    InvalidPaymentToken,
    InvalidWebhookPayload,
    InvalidWebhookSignature,
    PaymentProviderUnavailable,
)

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams

logger = logging.getLogger(__name__)

ChargeStatus = Literal["succeeded", "failed", "processing"]

# Decline reasons we pass on to the customer; the others (fraudulent, lost_card, generic_decline...)
# read as a plain "card_declined", as Stripe advises.
PUBLIC_DECLINE_CODES = frozenset(
    {"card_declined", "expired_card", "incorrect_cvc", "incorrect_number", "insufficient_funds", "processing_error"}
)

# The final PaymentIntent statuses; any other one (processing, requires_action...) is still processing.
INTENT_STATUSES: dict[str, ChargeStatus] = {
    "succeeded": "succeeded",
    "requires_payment_method": "failed",
    "canceled": "failed",
}

# The request parameters that carry the customer's token, as Stripe names them in errors.
TOKEN_PARAMS = frozenset({"payment_method", "payment_method_data[card][token]"})

# Stripe's test tokens offered to shoppers when no real card can be entered (dummy gateway, or Stripe without a
# publishable key), with what each does; the declining ones are answered as TEST_DECLINES says.
TEST_CARDS = (
    ("tok_visa", "Visa ending 4242 (succeeds)"),
    ("tok_mastercard", "Mastercard ending 4444 (succeeds)"),
    ("tok_chargeDeclined", "Card that is declined"),
    ("tok_chargeDeclinedInsufficientFunds", "Card with insufficient funds"),
    ("tok_chargeDeclinedExpiredCard", "Expired card"),
)

# Stripe test-mode tokens that decline (tok_<name>, pm_card_<name>), with Stripe's code and message.
TEST_DECLINES = {
    "chargeDeclined": ("card_declined", "Your card was declined."),
    "chargeDeclinedInsufficientFunds": ("insufficient_funds", "Your card has insufficient funds."),
    "chargeDeclinedExpiredCard": ("expired_card", "Your card has expired."),
    "chargeDeclinedIncorrectCvc": ("incorrect_cvc", "Your card's security code is incorrect."),
}


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    reference: str  # the provider's id of the payment, e.g. "pi_..."
    amount_minor: int
    currency: str
    failure_code: str = ""
    failure_message: str = ""


class PaymentGateway(Protocol):
    name: str  # "stripe" | "dummy", recorded as the payment's provider

    def charge(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str, metadata: dict[str, str]
    ) -> ChargeResult:
        """Charge a card; raises CardError, InvalidPaymentToken or PaymentProviderUnavailable."""
        ...

    def retrieve(self, *, reference: str) -> ChargeResult:
        """The current state of a payment; raises PaymentProviderUnavailable."""
        ...

    def refund(self, *, reference: str, idempotency_key: str) -> None:
        """Refund a payment in full; raises PaymentProviderUnavailable."""
        ...


class StripeGateway:
    """Stripe PaymentIntents, created and confirmed server-side, through the official SDK."""

    name = "stripe"

    def __init__(self, api_key: str, api_base: str | None = None, timeout: float = 10.0):
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.RequestsClient(timeout=timeout),
            # No retries inside the SDK (they would hold the customer's request through back-off sleeps): a
            # failure surfaces as PaymentProviderUnavailable, and the caller retries later with the same
            # Idempotency-Key, which Stripe answers from its record, so a payment is never taken twice.
            max_network_retries=0,
        )

    def charge(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str, metadata: dict[str, str]
    ) -> ChargeResult:
        """Create and confirm a PaymentIntent; raises CardError, InvalidPaymentToken or PaymentProviderUnavailable."""
        params: PaymentIntentCreateParams = {
            "amount": to_minor_units(amount, currency),
            "currency": currency.lower(),
            "confirm": True,
            "payment_method_types": ["card"],
            "metadata": metadata,
        }
        if token.startswith("pm_"):
            params["payment_method"] = token
        else:
            params["payment_method_data"] = {"type": "card", "card": {"token": token}}
        try:
            with _unavailable_on_provider_failure():
                intent = self._client.v1.payment_intents.create(params, {"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            error = exc.error
            raise CardError(
                exc.user_message,
                code=public_decline_code(exc.code, error.decline_code if error else None),
                reference=error.payment_intent.id if error and error.payment_intent else "",
            ) from exc
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing" or exc.param in TOKEN_PARAMS:
                raise InvalidPaymentToken(exc.user_message) from exc
            raise
        result = _result_from_intent(intent)
        if result.status == "failed":
            code = result.failure_code or "card_declined"
            raise CardError(result.failure_message or None, code=code, reference=result.reference)
        return result

    def retrieve(self, *, reference: str) -> ChargeResult:
        """Fetch a PaymentIntent and map its status; raises PaymentProviderUnavailable."""
        with _unavailable_on_provider_failure():
            return _result_from_intent(self._client.v1.payment_intents.retrieve(reference))

    def refund(self, *, reference: str, idempotency_key: str) -> None:
        """Refund a PaymentIntent in full (already refunded counts as done); raises PaymentProviderUnavailable."""
        try:
            with _unavailable_on_provider_failure():
                self._client.v1.refunds.create({"payment_intent": reference}, {"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as exc:
            if exc.code != "charge_already_refunded":
                raise


class DummyGateway:
    """Offline and deterministic: answers Stripe's test tokens the way Stripe test mode does.

    A reference is derived from the idempotency key (a retry gets the same one) and carries the amount
    and currency, so that ``retrieve`` needs no state.
    """

    name = "dummy"

    def charge(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str, metadata: dict[str, str]
    ) -> ChargeResult:
        """Succeed, or decline for Stripe's decline test tokens; raises CardError or InvalidPaymentToken."""
        if not token.startswith(("tok_", "pm_")):
            raise InvalidPaymentToken(f"No such token: '{token}'")
        amount_minor, currency = to_minor_units(amount, currency), currency.lower()
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        reference = f"dummy_pi_{digest}_{amount_minor}_{currency}"
        test_card = token.removeprefix("pm_card_") if token.startswith("pm_card_") else token.removeprefix("tok_")
        if test_card in TEST_DECLINES:
            code, message = TEST_DECLINES[test_card]
            raise CardError(message, code=code, reference=reference)
        return ChargeResult(status="succeeded", reference=reference, amount_minor=amount_minor, currency=currency)

    def retrieve(self, *, reference: str) -> ChargeResult:
        """A payment this gateway took, as succeeded."""
        amount_minor, currency = reference.rsplit("_", 2)[1:]
        return ChargeResult(status="succeeded", reference=reference, amount_minor=int(amount_minor), currency=currency)

    def refund(self, *, reference: str, idempotency_key: str) -> None:
        """Nothing to give back: no money moved."""


def get_gateway() -> PaymentGateway:
    """The gateway that settings.PAYMENT_GATEWAY names ("stripe" or "dummy"), built from current settings."""
    name = getattr(settings, "PAYMENT_GATEWAY", "dummy")
    if name == "dummy":
        return DummyGateway()
    if name != "stripe":
        raise ImproperlyConfigured(f"PAYMENT_GATEWAY must be 'stripe' or 'dummy', not {name!r}.")
    api_key = getattr(settings, "STRIPE_SECRET_KEY", "")
    if not api_key:
        raise ImproperlyConfigured("STRIPE_SECRET_KEY must be set when PAYMENT_GATEWAY is 'stripe'.")
    return StripeGateway(
        api_key=api_key,
        api_base=getattr(settings, "STRIPE_API_BASE", None) or None,
        timeout=float(getattr(settings, "STRIPE_TIMEOUT_SECONDS", 10)),
    )


def gateway_for(provider: str) -> PaymentGateway:
    """The gateway of the provider that took a payment. Raises PaymentProviderUnavailable if it is not configured."""
    gateway = get_gateway()
    if gateway.name == provider:
        return gateway
    if provider == DummyGateway.name:
        return DummyGateway()
    logger.error("A payment was taken with %s, which is not the configured gateway.", provider)
    raise PaymentProviderUnavailable()


@dataclass(frozen=True)
class ProviderEvent:
    """A verified provider event."""

    id: str
    type: str
    object: dict[str, Any]


WEBHOOK_TOLERANCE_SECONDS = stripe.Webhook.DEFAULT_TOLERANCE  # 5 minutes, either way


def _signed_at(signature: str) -> int:
    """The ``t=`` timestamp of a Stripe-Signature header that the SDK has already verified."""
    stamps = [item.partition("=")[2] for item in signature.split(",") if item.strip().startswith("t=")]
    return int(stamps[0].strip())


def verify_webhook_event(*, payload: bytes, signature: str | None) -> ProviderEvent:
    """The Stripe event a webhook carries, once its signature is checked with STRIPE_WEBHOOK_SECRET.

    Raises InvalidWebhookSignature or InvalidWebhookPayload (signed, but not an event).
    """
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
    if _signed_at(signature) > time.time() + WEBHOOK_TOLERANCE_SECONDS:  # Stripe's SDK checks only the past
        raise InvalidWebhookSignature()
    data = event.to_dict()
    obj = data.get("data", {}).get("object") if isinstance(data.get("data"), dict) else None
    if not (isinstance(data.get("id"), str) and isinstance(data.get("type"), str) and isinstance(obj, dict)):
        raise InvalidWebhookPayload()
    return ProviderEvent(id=data["id"], type=data["type"], object=obj)


@contextmanager
def _unavailable_on_provider_failure() -> Iterator[None]:
    """Turn timeouts, connection errors, rate limits and provider 5xx into PaymentProviderUnavailable."""
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        raise PaymentProviderUnavailable() from exc


def public_decline_code(code: str | None, decline_code: str | None) -> str:
    """The most specific decline reason we may show the customer."""
    for candidate in (decline_code, code):
        if candidate and candidate in PUBLIC_DECLINE_CODES:
            return candidate
    return "card_declined"


def _result_from_intent(intent: stripe.PaymentIntent) -> ChargeResult:
    """Map a PaymentIntent to a ChargeResult, a failure with its last payment error."""
    status = INTENT_STATUSES.get(intent.status, "processing")
    error = intent.last_payment_error if status == "failed" else None
    return ChargeResult(
        status=status,
        reference=intent.id,
        amount_minor=intent.amount,
        currency=intent.currency,
        failure_code=public_decline_code(error.code, error.decline_code) if error else "",
        failure_message=(error.message or "") if error else "",
    )
