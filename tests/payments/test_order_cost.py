"""What one order costs the database (issue 12, item 3: checkout + payment >= 100 orders/s on two cores), as
``make bench`` orders: add a product to the cart, check out, pay with the dummy gateway, each through the API.

The statements are counted apart from transaction control (which the test's own transaction turns into
savepoints). The limits are what the code sends today: a read of the same rows twice, or a second write where
one does, fails here. The rate limits' and token versions' cache is the memory cache in tests (the database
cache adds one read and one write per checkout or payment, ecommerce.cache).
"""

import pytest

from tests.conftest import make_product

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")

# Per request: (queries, transaction-control statements), the same for 1 line and for 10.
ADD_TO_CART = (5, 2)
CHECKOUT = (21, 8)
PAYMENT = (23, 8)


def _split(statements: list[str]) -> tuple[list[str], int]:
    queries = [sql for sql in statements if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL)]
    return queries, len(statements) - len(queries)


def _counted(count_queries, call) -> tuple[object, tuple[list[str], int]]:
    with count_queries() as captured:
        response = call()
    assert 200 <= response.status_code < 300, response.content
    return response, _split([query["sql"] for query in captured.captured_queries])


def _within(counted: tuple[list[str], int], limit: tuple[int, int]) -> None:
    queries, control = counted
    assert len(queries) <= limit[0] and control <= limit[1], (len(queries), control, "\n".join(queries))


@pytest.mark.parametrize("lines", [1, 10])
def test_an_order_costs_a_fixed_number_of_statements(settings, customer_client, lines, count_queries):
    settings.PAYMENT_GATEWAY = "dummy"
    products = [make_product(stock=100) for _ in range(lines)]
    for product in products[1:]:
        customer_client.post("/cart", {"productId": product.id, "quantity": 1}, format="json")
    customer_client.post("/cart", {"productId": products[0].id, "quantity": 1}, format="json")  # the cart exists

    _, added = _counted(
        count_queries,
        lambda: customer_client.post("/cart", {"productId": products[0].id, "quantity": 1}, format="json"),
    )
    order, checked_out = _counted(count_queries, lambda: customer_client.post("/order/checkout", {}, format="json"))
    pay = {"orderId": order.json()["id"], "token": "tok_visa"}
    paid, payment = _counted(count_queries, lambda: customer_client.post("/payment", pay, format="json"))

    assert paid.json()["order"]["status"] == "paid"
    _within(added, ADD_TO_CART)
    _within(checked_out, CHECKOUT)
    _within(payment, PAYMENT)


def test_a_payment_reads_its_order_and_writes_its_row_once(settings, customer_client, product, count_queries):
    """The order's row is read to price the payment and by payments' check of its status before recording the
    success (the handler marks a pending order paid without reading it); its lines, with the order joined to them,
    for the email's event and for the answer; its timeline only for the answer. The payment row is inserted with its
    idempotency key, then updated once, and not read back."""
    settings.PAYMENT_GATEWAY = "dummy"
    customer_client.post("/cart", {"productId": product.id, "quantity": 1}, format="json")
    order = customer_client.post("/order/checkout", {}, format="json").json()

    _, (queries, _) = _counted(
        count_queries,
        lambda: customer_client.post("/payment", {"orderId": order["id"], "token": "tok_visa"}, format="json"),
    )

    order_reads = [sql for sql in queries if sql.startswith("SELECT") and 'FROM "orders_order"' in sql]
    line_reads = [sql for sql in queries if sql.startswith("SELECT") and 'FROM "orders_orderline"' in sql]
    payment_writes = [
        sql for sql in queries if sql.startswith(("INSERT INTO", "UPDATE")) and '"payments_payment"' in sql
    ]
    timeline_reads = [sql for sql in queries if sql.startswith("SELECT") and 'FROM "orders_statuschange"' in sql]
    assert len(order_reads) <= 2, "\n".join(order_reads)
    assert len(line_reads) <= 2, "\n".join(line_reads)
    assert len(timeline_reads) <= 1, "\n".join(timeline_reads)  # the answer's
    payment_reads = [sql for sql in queries if sql.startswith("SELECT") and 'FROM "payments_payment"' in sql]
    assert [sql.split(" ")[0] for sql in payment_writes] == ["INSERT", "UPDATE"]  # created, then succeeded
    assert len(payment_reads) == 2, "\n".join(payment_reads)  # an earlier attempt to settle, the declines
