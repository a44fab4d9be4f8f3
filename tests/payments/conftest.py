"""Payment fixtures: a fake Stripe on 127.0.0.1 and a StripeGateway pointed at it."""

import pytest
import stripe

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
