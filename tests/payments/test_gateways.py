"""The payment gateways through their public interface: the Stripe one runs the real SDK over HTTP
against the fake Stripe in tests/stripe_server.py; the dummy one runs offline."""

from decimal import Decimal

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured

from payments.errors import CardError, InvalidPaymentToken, PaymentProviderUnavailable
from payments.gateways import DummyGateway, StripeGateway, get_gateway
from tests.stripe_server import StripeServer

SHORT_TIMEOUT = 0.3  # the client gives up after this...
SLOW_ANSWER = 5.0  # ...long before the fake answers (the waiting thread is cut short when the server stops)

DECLINES = [
    ("chargeDeclined", "card_declined", "Your card was declined."),
    ("chargeDeclinedInsufficientFunds", "insufficient_funds", "Your card has insufficient funds."),
    ("chargeDeclinedExpiredCard", "expired_card", "Your card has expired."),
    ("chargeDeclinedIncorrectCvc", "incorrect_cvc", "Your card's security code is incorrect."),
]
DECLINING_TOKENS = [
    pytest.param(f"{prefix}{card}", code, message, id=f"{prefix}{card}")
    for card, code, message in DECLINES
    for prefix in ("tok_", "pm_card_")
]


def charge(gateway, *, token="tok_visa", amount="19.99", currency="usd", key="payment-1", order_id="42"):
    return gateway.charge(
        amount=Decimal(amount), currency=currency, token=token, idempotency_key=key, metadata={"order_id": order_id}
    )


# --- StripeGateway ---------------------------------------------------------------------------------


def test_stripe_charge_confirms_a_payment_intent_in_minor_units(stripe_gateway, stripe_server):
    result = charge(stripe_gateway, amount="19.99", currency="USD")

    assert (result.status, result.amount_minor, result.currency) == ("succeeded", 1999, "usd")
    assert result.reference.startswith("pi_")
    assert stripe_server.charge_count == 1
    intent = stripe_server.payment_intents[result.reference]
    assert (intent["amount"], intent["currency"], intent["status"]) == (1999, "usd", "succeeded")
    assert intent["metadata"] == {"order_id": "42"}
    assert intent["payment_method_types"] == ["card"]


def test_stripe_charge_of_a_zero_decimal_currency_sends_whole_units(stripe_gateway, stripe_server):
    result = charge(stripe_gateway, amount="1500", currency="jpy")

    assert (result.status, result.amount_minor, result.currency) == ("succeeded", 1500, "jpy")
    assert stripe_server.payment_intents[result.reference]["amount"] == 1500


@pytest.mark.parametrize("token", ["pm_card_visa", "pm_card_mastercard", "tok_mastercard"])
def test_stripe_charge_accepts_payment_methods_and_tokens(stripe_gateway, stripe_server, token):
    assert charge(stripe_gateway, token=token).status == "succeeded"
    assert stripe_server.charge_count == 1


def test_stripe_decline_raises_card_error_with_the_failed_payment_intent(stripe_gateway, stripe_server):
    with pytest.raises(CardError) as declined:
        charge(stripe_gateway, token="tok_chargeDeclined")

    assert (declined.value.status, declined.value.code) == (402, "card_declined")
    assert declined.value.message == "Your card was declined."
    assert stripe_server.charge_count == 1
    assert stripe_server.payment_intents[declined.value.reference]["status"] == "requires_payment_method"


@pytest.mark.parametrize(("token", "code", "message"), DECLINING_TOKENS)
def test_stripe_decline_carries_the_reason(stripe_gateway, token, code, message):
    with pytest.raises(CardError) as declined:
        charge(stripe_gateway, token=token)

    assert (declined.value.code, declined.value.message) == (code, message)


@pytest.mark.parametrize("token", ["tok_doesNotExist", "pm_doesNotExist"])
def test_stripe_unknown_token_raises_invalid_payment_token(stripe_gateway, stripe_server, token):
    with pytest.raises(InvalidPaymentToken) as invalid:
        charge(stripe_gateway, token=token)

    assert (invalid.value.status, invalid.value.code, invalid.value.attr) == (400, "invalid_payment_token", "token")
    assert token in invalid.value.message
    assert stripe_server.charge_count == 0


def test_stripe_payment_needing_authentication_is_processing(stripe_gateway):
    assert charge(stripe_gateway, token="pm_card_threeDSecure2Required").status == "processing"


def test_stripe_charge_with_the_same_idempotency_key_charges_once(stripe_gateway, stripe_server):
    first = charge(stripe_gateway, key="payment-7")
    again = charge(stripe_gateway, key="payment-7")
    other = charge(stripe_gateway, key="payment-8")

    assert again == first
    assert other.reference != first.reference
    assert stripe_server.charge_count == 2
    assert stripe_server.idempotency_keys[first.reference] == "payment-7"


def test_stripe_decline_replayed_with_the_same_key_declines_without_a_new_attempt(stripe_gateway, stripe_server):
    with pytest.raises(CardError) as first:
        charge(stripe_gateway, token="tok_chargeDeclined", key="payment-7")
    with pytest.raises(CardError) as again:
        charge(stripe_gateway, token="tok_chargeDeclined", key="payment-7")

    assert again.value.reference == first.value.reference
    assert stripe_server.charge_count == 1


def test_stripe_idempotency_key_reused_for_another_amount_is_refused(stripe_gateway, stripe_server):
    charge(stripe_gateway, amount="10.00", key="payment-7")

    with pytest.raises(stripe.IdempotencyError):
        charge(stripe_gateway, amount="12.00", key="payment-7")
    assert stripe_server.charge_count == 1


def test_stripe_timeout_is_unavailable_and_the_retry_with_the_same_key_does_not_charge_twice(
    stripe_gateway, stripe_server
):
    impatient = StripeGateway(api_key="sk_test_fake", api_base=stripe_server.url, timeout=SHORT_TIMEOUT)
    stripe_server.delay_seconds = SLOW_ANSWER

    with pytest.raises(PaymentProviderUnavailable) as unavailable:
        charge(impatient, key="payment-7")

    assert (unavailable.value.status, unavailable.value.code) == (503, "payment_provider_unavailable")
    assert stripe_server.charge_count == 1  # timed out, yet charged
    stripe_server.delay_seconds = 0
    retried = charge(stripe_gateway, key="payment-7")
    assert retried.status == "succeeded"
    assert [retried.reference] == list(stripe_server.payment_intents)
    assert stripe_server.charge_count == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_stripe_server_errors_are_unavailable_and_not_retried_by_the_sdk(stripe_gateway, stripe_server, status):
    stripe_server.fail_next(1, status=status)

    with pytest.raises(PaymentProviderUnavailable):
        charge(stripe_gateway, key="payment-7")

    assert stripe_server.charge_count == 0
    assert charge(stripe_gateway, key="payment-7").status == "succeeded"
    assert stripe_server.charge_count == 1


def test_stripe_unreachable_is_unavailable():
    with StripeServer() as server:
        gone = server.url

    with pytest.raises(PaymentProviderUnavailable):
        charge(StripeGateway(api_key="sk_test_fake", api_base=gone, timeout=SHORT_TIMEOUT))


def test_stripe_retrieve_maps_the_payment_intent_status(stripe_gateway):
    paid = charge(stripe_gateway, key="payment-1")
    with pytest.raises(CardError) as declined:
        charge(stripe_gateway, token="tok_chargeDeclinedInsufficientFunds", key="payment-2")
    pending = charge(stripe_gateway, token="tok_threeDSecure2Required", key="payment-3")

    assert stripe_gateway.retrieve(reference=paid.reference) == paid
    failed = stripe_gateway.retrieve(reference=declined.value.reference)
    assert (failed.status, failed.failure_code, failed.failure_message) == (
        "failed",
        "insufficient_funds",
        "Your card has insufficient funds.",
    )
    assert (failed.amount_minor, failed.currency) == (1999, "usd")
    assert stripe_gateway.retrieve(reference=pending.reference).status == "processing"


def test_stripe_retrieve_when_the_provider_fails_is_unavailable(stripe_gateway, stripe_server):
    paid = charge(stripe_gateway)
    stripe_server.fail_next(1, status=502)

    with pytest.raises(PaymentProviderUnavailable):
        stripe_gateway.retrieve(reference=paid.reference)


def test_stripe_refund_refunds_the_payment_intent_once(stripe_gateway, stripe_server):
    paid = charge(stripe_gateway)

    stripe_gateway.refund(reference=paid.reference, idempotency_key="refund-1")
    stripe_gateway.refund(reference=paid.reference, idempotency_key="refund-1")  # replayed by Stripe
    stripe_gateway.refund(reference=paid.reference, idempotency_key="refund-2")  # already refunded: done

    assert stripe_server.refund_count == 1
    [refund] = stripe_server.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == (paid.reference, 1999)
    assert stripe_server.idempotency_keys[refund["id"]] == "refund-1"


def test_stripe_refund_when_the_provider_fails_is_unavailable(stripe_gateway, stripe_server):
    paid = charge(stripe_gateway)
    stripe_server.fail_next(1, status=500)

    with pytest.raises(PaymentProviderUnavailable):
        stripe_gateway.refund(reference=paid.reference, idempotency_key="refund-1")
    assert stripe_server.refund_count == 0


# --- DummyGateway ----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["tok_visa", "pm_card_visa", "tok_mastercard", "pm_card_mastercard", "tok_amex"])
def test_dummy_charge_succeeds_for_test_cards(token):
    result = charge(DummyGateway(), token=token, amount="19.99", currency="USD")

    assert (result.status, result.amount_minor, result.currency) == ("succeeded", 1999, "usd")


def test_dummy_charge_in_a_zero_decimal_currency():
    assert charge(DummyGateway(), amount="1500", currency="jpy").amount_minor == 1500


def test_dummy_reference_is_the_same_for_the_same_idempotency_key():
    first = charge(DummyGateway(), key="payment-7")

    assert charge(DummyGateway(), key="payment-7") == first
    assert charge(DummyGateway(), key="payment-8").reference != first.reference


@pytest.mark.parametrize(("token", "code", "message"), DECLINING_TOKENS)
def test_dummy_declines_like_stripe_test_mode(token, code, message):
    succeeded = charge(DummyGateway(), token="tok_visa", key="payment-7")

    with pytest.raises(CardError) as declined:
        charge(DummyGateway(), token=token, key="payment-7")

    assert (declined.value.status, declined.value.code, declined.value.message) == (402, code, message)
    assert declined.value.reference == succeeded.reference


@pytest.mark.parametrize("token", ["", "4242424242424242", "card_visa"])
def test_dummy_rejects_what_is_not_a_token(token):
    with pytest.raises(InvalidPaymentToken) as invalid:
        charge(DummyGateway(), token=token)

    assert (invalid.value.status, invalid.value.attr) == (400, "token")


def test_dummy_retrieve_returns_the_payment_as_succeeded():
    paid = charge(DummyGateway(), amount="1500", currency="jpy")

    assert DummyGateway().retrieve(reference=paid.reference) == paid


def test_dummy_refund_is_accepted():
    paid = charge(DummyGateway())

    assert DummyGateway().refund(reference=paid.reference, idempotency_key="refund-1") is None


# --- get_gateway -----------------------------------------------------------------------------------


def test_get_gateway_dummy(settings):
    settings.PAYMENT_GATEWAY = "dummy"

    gateway = get_gateway()

    assert isinstance(gateway, DummyGateway)
    assert gateway.name == "dummy"


def test_get_gateway_stripe_talks_to_the_configured_api_base(settings, stripe_server):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_from_settings"
    settings.STRIPE_API_BASE = stripe_server.url

    gateway = get_gateway()

    assert gateway.name == "stripe"
    assert charge(gateway).status == "succeeded"
    assert stripe_server.charge_count == 1


def test_get_gateway_stripe_uses_the_configured_timeout(settings, stripe_server):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_from_settings"
    settings.STRIPE_API_BASE = stripe_server.url
    settings.STRIPE_TIMEOUT_SECONDS = SHORT_TIMEOUT
    stripe_server.delay_seconds = SLOW_ANSWER

    with pytest.raises(PaymentProviderUnavailable):
        charge(get_gateway())


def test_get_gateway_stripe_needs_a_secret_key(settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(ImproperlyConfigured):
        get_gateway()


def test_get_gateway_refuses_an_unknown_gateway(settings):
    settings.PAYMENT_GATEWAY = "paypal"

    with pytest.raises(ImproperlyConfigured):
        get_gateway()
