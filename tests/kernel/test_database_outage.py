"""A database that goes away mid-request: 503 with Retry-After in the error envelope, and nothing stuck."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import OperationalError, connections
from django.test import Client

from cart import services as cart
from ecommerce.models import IdempotencyRecord
from inventory import services as inventory
from tests.conftest import client_for, make_product, make_user, on_every_database


def failing_on(table: str):
    """The database refusing a statement the way a restarting server does."""

    def wrapper(execute, sql, params, many, context):
        if f'"{table}"' in sql:
            raise OperationalError("the database system is shutting down")
        return execute(sql, params, many, context)

    return wrapper


def order_ids(customer) -> list[int]:
    return [order["id"] for order in client_for(customer).get("/order").json()["results"]]


def assert_database_unavailable(response):
    assert response.status_code == 503
    assert int(response["Retry-After"]) == settings.DATABASE_RETRY_AFTER_SECONDS
    body = response.json()
    assert body["type"] == "server_error"
    assert body["errors"][0]["code"] == "database_unavailable"


@pytest.mark.django_db
def test_an_api_read_during_an_outage_is_503_with_retry_after(customer, customer_client):
    with on_every_database(failing_on("cart_cart")):
        assert_database_unavailable(customer_client.get("/cart"))
    assert customer_client.get("/cart").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/shop/cart/"])
def test_a_page_during_an_outage_is_an_html_503_with_retry_after(path):
    client = Client(raise_request_exception=False)  # as a WSGI server sees it
    client.cookies["sessionid"] = "a" * 32  # a session to look up
    with on_every_database(failing_on("django_session")):
        response = client.get(path)
    assert response.status_code == 503
    assert int(response["Retry-After"]) == settings.DATABASE_RETRY_AFTER_SECONDS
    assert response["Content-Type"].startswith("text/html")
    assert "try again" in response.content.decode()


@pytest.mark.django_db(transaction=True)  # the key is given back on a connection of its own
def test_a_checkout_that_met_an_outage_gives_its_key_back():
    customer, product = make_user(), make_product(stock=3)
    customer_client = client_for(customer)
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    with on_every_database(failing_on("orders_order")):
        failed = customer_client.post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert_database_unavailable(failed)
    retried = customer_client.post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert retried.status_code == 201
    assert order_ids(customer) == [retried.json()["id"]]


def _terminate_backend_on(table: str):
    """Kill the server process of the connection that writes ``table``: a connection broken mid-transaction."""

    def wrapper(execute, sql, params, many, context):
        if sql.startswith(f'INSERT INTO "{table}"'):
            with context["connection"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            killer = connections.create_connection(context["connection"].alias)
            try:
                with killer.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            finally:
                killer.close()
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checkout_whose_connection_broke_is_503_and_its_key_is_free_at_once():
    customer, product = make_user(), make_product(stock=3)
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    client = client_for(customer)

    with on_every_database(_terminate_backend_on("orders_order")):
        broken = client.post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert_database_unavailable(broken)
    assert not IdempotencyRecord.objects.filter(key="k").exists()  # released on a connection of its own
    retried = client.post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert retried.status_code == 201
    assert order_ids(customer) == [retried.json()["id"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checkout_taken_over_by_a_retry_is_done_once():
    """A slow attempt whose lease ran out, and whose key a retry took over: both finish the same checkout."""
    customer, product = make_user(), make_product(stock=3)
    cart.add_to_cart(user_id=customer.id, product_id=product.id, quantity=1)
    retry_writes_the_order = threading.Event()
    retries = []

    def retry():
        """The client gave up on the first attempt and retries after the lease, on other connections."""

        def note_the_order_insert(execute, sql, params, many, context):
            # Writing its order, it waits for the first attempt's uncommitted one (at the customer's
            # checkout lock, or at the order's unique checkout token).
            if sql.startswith(('INSERT INTO "orders_customercheckoutlock"', 'INSERT INTO "orders_order"')):
                retry_writes_the_order.set()
            return execute(sql, params, many, context)

        try:
            later = IdempotencyRecord.objects.get(key="slow").locked_until + timedelta(seconds=1)
            with time_machine.travel(later, tick=False), on_every_database(note_the_order_insert):
                retries.append(
                    client_for(customer).post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="slow")
                )
        finally:
            retry_writes_the_order.set()
            connections.close_all()

    thread = threading.Thread(target=retry)

    def retry_while_the_order_is_uncommitted(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith('INSERT INTO "orders_order"') and not thread.is_alive() and not retries:
            thread.start()
            retry_writes_the_order.wait()
        return result

    with on_every_database(retry_while_the_order_is_uncommitted):
        first = client_for(customer).post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="slow")
    thread.join()

    assert (first.status_code, retries[0].status_code) == (201, 201)
    assert order_ids(customer) == [first.json()["id"]] == [retries[0].json()["id"]]
    assert inventory.get_stock_level(product_id=product.id).reserved == 1
    replay = client_for(customer).post("/order/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="slow")
    assert (replay.status_code, replay.json()["id"]) == (200, first.json()["id"])
