"""Payment fixtures: a fake Stripe on 127.0.0.1 and a StripeGateway pointed at it."""

from io import StringIO

import pytest
import stripe
from django.core.management import call_command
from django.core.management.base import CommandError

from payments.gateways import StripeGateway
from tests.stripe_server import StripeServer

# The fake answers in milliseconds: this only bounds a test that hangs. Tests that force a timeout
# build their own gateway with a short one.
GATEWAY_TIMEOUT_SECONDS = 5.0


@pytest.fixture(scope="session")
def _shared_stripe_server():
    with StripeServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_stripe_telemetry(monkeypatch):
    """The SDK's telemetry would write an id under ~/.config/stripe: not from a test run."""
    monkeypatch.setattr(stripe, "enable_telemetry", False)


@pytest.fixture
def stripe_server(_shared_stripe_server):
    """The fake Stripe (shared by the session), emptied for this test; see tests/stripe_server.py."""
    _shared_stripe_server.reset()
    yield _shared_stripe_server
    _shared_stripe_server.reset()


@pytest.fixture
def stripe_gateway(stripe_server):
    """A StripeGateway running the real SDK over HTTP against the fake Stripe."""
    return StripeGateway(api_key="sk_test_fake", api_base=stripe_server.url, timeout=GATEWAY_TIMEOUT_SECONDS)


# --- Orders to pay, and the gateway to pay them with -----------------------------------------------

WEBHOOK_SECRET = "whsec_test_secret"
SHORT_TIMEOUT = 0.3  # the SDK gives up after this...
SLOW_ANSWER = 5.0  # ...long before the fake Stripe answers (it has charged already: a timeout after the charge)


@pytest.fixture
def use_stripe(settings, stripe_server):
    """Payments go through the real Stripe SDK to the fake Stripe."""
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = stripe_server.url
    settings.STRIPE_TIMEOUT_SECONDS = GATEWAY_TIMEOUT_SECONDS
    return stripe_server


@pytest.fixture(params=["dummy", "stripe"])
def gateway(request, settings):
    """Each test using this runs with both gateways; the value is the gateway's name."""
    settings.PAYMENT_GATEWAY = "dummy"
    if request.param == "stripe":
        request.getfixturevalue("use_stripe")
    return request.param


@pytest.fixture
def provider_times_out(settings, use_stripe):
    """The fake Stripe charges, but answers after the SDK has given up; call it to make it prompt again."""
    settings.STRIPE_TIMEOUT_SECONDS = SHORT_TIMEOUT
    use_stripe.delay_seconds = SLOW_ANSWER

    def recover():
        use_stripe.delay_seconds = 0
        settings.STRIPE_TIMEOUT_SECONDS = GATEWAY_TIMEOUT_SECONDS

    return recover


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


def place_order(user, product, quantity: int = 2):
    """A pending order of ``user`` for ``quantity`` units of ``product``, checked out through the services."""
    from cart import services as cart
    from orders import services as orders

    cart.add_to_cart(user_id=user.id, product_id=product.id, quantity=quantity)
    return orders.checkout(user_id=user.id)


@pytest.fixture
def order(customer, product):
    """The customer's pending order for 2 units of ``product`` (19.99 each, 5 in stock): 39.98 in all."""
    return place_order(customer, product, 2)


def stock(product) -> tuple[int, int]:
    """(on hand, reserved) of a product."""
    from inventory import services as inventory

    level = inventory.get_stock_level(product_id=product.id)
    return level.on_hand, level.reserved


def ledger(order_id: int) -> list[tuple[str, int, int]]:
    """The stock movements of an order, oldest first: (reason, on hand delta, reserved delta)."""
    from inventory import services as inventory

    movements = reversed(inventory.list_stock_movements(order_id=order_id))
    return [(m.reason, m.on_hand_delta, m.reserved_delta) for m in movements]


def signed_event(event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[bytes, str]:
    """A webhook body and a valid Stripe-Signature for it."""
    import json

    from tests.stripe_server import sign_webhook_payload

    payload = json.dumps(event).encode()
    return payload, sign_webhook_payload(payload, secret, timestamp)


def post_webhook(client, payload: bytes, signature: str | None):
    headers = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
    return client.post("/payment/webhook", data=payload, content_type="application/json", **headers)


def check_consistency(*args: str) -> tuple[int, str]:
    """Run ``manage.py check_consistency`` with ``args``: its exit status (0 or 1) and its report."""
    out = StringIO()
    try:
        call_command("check_consistency", *args, stdout=out)
    except CommandError:
        return 1, out.getvalue()
    return 0, out.getvalue()
