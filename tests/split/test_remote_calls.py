"""Public functions called in another process (ecommerce.remote), against a real gunicorn serving inventory.

The test process calls the server's inventory through the same stand-ins that ``REMOTE_APPS`` installs, so
the dataclasses, errors, credential and retries are those of a split deployment.
"""

import dataclasses
import datetime
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ecommerce import remote
from inventory.services import InsufficientStock, StockLevel, StockLine
from orders.services import OrderItem
from tests.e2e.harness import running_server

TOKEN = "service-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def inventory_server(tmp_path_factory):
    with running_server(tmp_path_factory, SERVE_APPS="inventory", SERVICE_TOKEN=TOKEN) as server:
        yield server


@pytest.fixture
def service_settings(settings):
    settings.SERVICE_TOKEN = TOKEN
    settings.REMOTE_RETRIES = 2
    settings.REMOTE_TIMEOUT_SECONDS = 5
    return settings


class DropFirstResponse:
    """A proxy in front of ``upstream`` that passes every call on but drops the first answer to each logical call."""

    def __init__(self, upstream: str):
        self.calls = 0
        seen_keys = set()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                forwarded = requests.post(upstream + self.path, data=body, headers=dict(self.headers), timeout=10)
                proxy.calls += 1
                key = self.headers["Idempotency-Key"]
                if key not in seen_keys:  # the work is done upstream; the caller never hears of it
                    seen_keys.add(key)
                    self.close_connection = True
                    return
                self.send_response(forwarded.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(forwarded.content)))
                self.end_headers()
                self.wfile.write(forwarded.content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _inventory(url: str):
    return type("RemoteInventory", (), remote.remote_functions("inventory", url))


@pytest.mark.django_db
def test_dataclasses_and_errors_cross_the_wire_as_themselves(inventory_server, service_settings):
    inventory = _inventory(inventory_server.url)
    created = inventory.create_stock_item(product_id=101, on_hand=3)
    assert isinstance(created, StockLevel)
    assert (created.product_id, created.on_hand, created.reserved) == (101, 3, 0)

    levels = inventory.get_stock_levels(product_ids=[101, 999])
    assert levels == {101: created}  # int keys, an equal frozen dataclass, the exact datetime

    with pytest.raises(InsufficientStock) as refused:
        inventory.reserve_stock(
            order_id=1, lines=[StockLine(product_id=101, quantity=4)], expires_at=datetime.datetime.now(datetime.UTC)
        )
    assert refused.value.extra == {"product_ids": [101]}
    assert inventory.get_stock_level(product_id=101).reserved == 0


@pytest.mark.django_db
def test_a_retry_after_a_lost_answer_does_not_reserve_twice(inventory_server, service_settings):
    inventory = _inventory(inventory_server.url)
    inventory.create_stock_item(product_id=202, on_hand=10)
    expires_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    with DropFirstResponse(inventory_server.url) as proxy:
        _inventory(proxy.url).reserve_stock(
            order_id=2, lines=[StockLine(product_id=202, quantity=4)], expires_at=expires_at
        )
        assert proxy.calls == 2  # the first answer was lost, the call was sent again
        _inventory(proxy.url).adjust_stock(product_id=202, delta=5)
        assert proxy.calls == 4  # this logical call too was lost once and sent again (a new key)

    level = inventory.get_stock_level(product_id=202)
    assert (level.on_hand, level.reserved) == (15, 4)  # reserved once, added once
    assert [movement.reason for movement in inventory.list_stock_movements(order_id=2)] == ["reservation"]
    assert inventory.release_reservation(order_id=2) is True  # leaves the server's database consistent


@pytest.mark.django_db
def test_the_owner_keeps_the_answers_of_writes_not_of_questions(inventory_server, service_settings):
    inventory = _inventory(inventory_server.url)
    inventory.create_stock_item(product_id=303, on_hand=1)
    inventory.get_stock_levels(product_ids=[303])
    inventory.get_stock_level(product_id=303)

    script = (
        "from ecommerce.models import IdempotencyRecord; "
        "print(sorted(set(IdempotencyRecord.objects.values_list('scope', flat=True))))"
    )
    kept = inventory_server.manage("shell", "--no-imports", "-c", script)
    assert "internal:inventory.create_stock_item" in kept
    assert "get_stock_level" not in kept  # a retry of a question simply asks again


def test_the_questions_are_public_functions():
    for app, names in remote.READS.items():
        assert names <= remote.remote_functions(app, "http://127.0.0.1:9").keys(), app


@pytest.mark.django_db
def test_an_unreachable_owner_is_a_503_after_bounded_retries(service_settings):
    with pytest.raises(remote.ServiceUnavailable):
        _inventory("http://127.0.0.1:9").get_stock_level(product_id=1)


def test_the_internal_endpoint_refuses_calls_without_the_service_credential(inventory_server):
    url = f"{inventory_server.url}/internal/inventory/get_stock_levels"
    body = {"args": [], "kwargs": {"$dict": [["product_ids", [1]]]}}
    assert requests.post(url, json=body, timeout=5).status_code == 403
    assert requests.post(url, json=body, headers={remote.TOKEN_HEADER: TOKEN[:-1]}, timeout=5).status_code == 403
    # A customer's bearer token is not the service credential either.
    assert requests.post(url, json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).status_code == 403

    served = requests.post(url, json=body, headers={remote.TOKEN_HEADER: TOKEN}, timeout=5)
    assert served.status_code == 200
    assert served.json() == {"result": {"$dict": []}}
    # Only public functions of the apps this process serves.
    for path in ("inventory/_merge", "inventory/StockLevel", "orders/get_order", "payments/pay_order"):
        refused = requests.post(
            f"{inventory_server.url}/internal/{path}", json=body, headers={remote.TOKEN_HEADER: TOKEN}
        )
        assert refused.status_code == 404, path
    # Only public classes inside: a private dataclass is refused before anything runs.
    smuggled = {"args": [], "kwargs": {"$dict": [["product_ids", {"$dataclass": "payments._Outcome", "fields": {}}]]}}
    assert requests.post(url, json=smuggled, headers={remote.TOKEN_HEADER: TOKEN}, timeout=5).status_code == 400


def test_a_process_without_a_service_token_has_no_internal_endpoint(inventory_server):
    response = requests.post(f"{inventory_server.url}/internal/catalog/get_products", json={}, timeout=5)
    assert response.status_code == 404  # catalog is not served there
    assert "/internal" not in requests.get(f"{inventory_server.url}/api/schema", timeout=5).text


def test_values_keep_their_exact_types():
    when = datetime.datetime(2026, 11, 26, 21, 0, 0, 123456, tzinfo=datetime.UTC)
    value = {
        "price": Decimal("19.990"),
        "at": when,
        "day": when.date(),
        "ids": frozenset({1, 2}),
        "pair": (1, "a"),
        7: [OrderItem(product_id=1, name="Tea", unit_price=Decimal("2.50"), quantity=3, line_total=Decimal("7.50"))],
    }
    decoded = remote.decode(remote.encode(value))
    assert decoded == value
    assert str(decoded["price"]) == "19.990" and decoded["at"].tzinfo is not None


@pytest.mark.parametrize("value", [object(), dataclasses.make_dataclass("Private", ["x"])(1)])
def test_values_outside_the_public_surfaces_do_not_cross(value):
    with pytest.raises(remote.UnsafeValue):
        remote.encode(value)


def test_remote_apps_must_name_apps_and_urls():
    assert remote.parse_remote_apps("payments=http://127.0.0.1:8103/, orders=http://h:1") == {
        "payments": "http://127.0.0.1:8103",
        "orders": "http://h:1",
    }
    for wrong in ("storefront=http://h:1", "payments", "payments=h:1"):
        with pytest.raises(remote.ImproperlyConfigured):
            remote.parse_remote_apps(wrong)
