"""The split suite: the shop as separate processes behind nginx (deploy/topology.py), run when asked.

``make test-split`` (RUN_SPLIT_SUITE=1) and .ci/run run it; it needs nginx on PATH.
"""

import json
import os
import shutil
import uuid

import pytest

from tests.e2e.harness import running_split
from tests.e2e.test_purchase_flow import Client, staff_member

PAYMENT_TIMEOUT_SECONDS = 1
PAYMENT_LEASE_SECONDS = 2 * PAYMENT_TIMEOUT_SECONDS + 5  # payments.services.charging._lease_end
OUTBOX_LEASE_SECONDS = 5  # the events a killed process published and had not delivered wait this long for the relay


def pytest_collection_modifyitems(config, items):
    reason = None
    if os.environ.get("RUN_SPLIT_SUITE") != "1":
        reason = "split suite: starts three gunicorn processes and nginx; run it with `make test-split`"
    elif not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        reason = "split suite: three processes writing at once need PostgreSQL (set DATABASE_URL)"
    elif shutil.which("nginx") is None:
        reason = "split suite: needs nginx on PATH (apt-get install nginx)"
    if reason is None:
        return
    if os.environ.get("RUN_SPLIT_SUITE") == "1" and os.environ.get("CI"):
        raise pytest.UsageError(reason)  # CI asked for the suite: a missing nginx is a failure
    for item in items:
        if item.path.is_relative_to(os.path.dirname(__file__)):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory):
    """The gateway of the split shop: the e2e tests run against it as against one process."""
    # A payment whose process died is settled again after its lease (2 x STRIPE_TIMEOUT_SECONDS + 5 s): 7 s here,
    # so that the outage test's retries and reconciliation need not wait 25 s; and its events wait 5 s, not 60.
    leases = {"STRIPE_TIMEOUT_SECONDS": str(PAYMENT_TIMEOUT_SECONDS), "OUTBOX_LEASE_SECONDS": str(OUTBOX_LEASE_SECONDS)}
    with running_split(tmp_path_factory, **leases) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def gateway_staff(e2e_server) -> Client:
    """A staff member signed in through the gateway."""
    return staff_member(e2e_server)


def customers(server, count: int) -> list[Client]:
    """``count`` signed-in customers with verified emails, made by the operator's shell in one go.

    The e2e flow registers its customers through the API; races need many, faster than password hashing allows.
    """
    script = (
        "import json, uuid; from django.contrib.auth import get_user_model; from django.utils import timezone; "
        "from accounts import services; users = [get_user_model().objects.create_user("
        "email=f'racer-{uuid.uuid4().hex[:10]}@example.com', name='Racer', email_verified_at=timezone.now()) "
        f"for _ in range({count})]; "
        "print(json.dumps([services.issue_tokens(user_id=user.id).access for user in users]))"
    )
    tokens = json.loads(server.manage("shell", "--no-imports", "-c", script))
    return [Client(server.url, token) for token in tokens]


def product_with_stock(staff: Client, stock: int) -> int:
    """A new product with ``stock`` units on sale; returns its id."""
    name = f"Racing mug {uuid.uuid4().hex[:6]}"
    return staff.ok("POST", "/products", {"name": name, "price": "10.00", "stock": stock}, 201)["id"]


def checked_out(customer: Client, product_id: int, quantity: int = 1) -> dict:
    """A pending order of ``customer`` for ``quantity`` units of the product."""
    customer.ok("POST", "/cart", {"productId": product_id, "quantity": quantity})
    return customer.ok("POST", "/order/checkout", {}, 201)


def paid_once(customer, order_id: int) -> None:
    """The order is paid, by one succeeded payment (one charge), and became paid once."""
    assert [p["status"] for p in customer.ok("GET", f"/payment?orderId={order_id}")["results"]] == ["succeeded"]
    order = customer.ok("GET", f"/order/{order_id}")
    assert order["status"] == "paid"
    assert [(event["fromStatus"], event["toStatus"]) for event in order["timeline"]] == [
        (None, "pending"),
        ("pending", "paid"),
    ]
