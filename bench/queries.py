"""SQL statements per request of each benchmarked endpoint, counted in-process with Django's test client.

Run by ``bench/run.py`` against its throwaway (seeded) database, before the server starts::

    DATABASE_URL=postgres://... BENCHMARK_ENDPOINTS=1 python -m bench.queries --out counts.json

Each endpoint is called once unmeasured (first-use costs such as creating the cart), then once inside
``CaptureQueriesContext``. Transaction control (``BEGIN``, ``COMMIT``, ``SAVEPOINT``, ``RELEASE``...) is
counted apart from queries. Cart and checkout are measured with 1 line and with 10 lines, to show whether the
count grows with the lines. Nothing here touches production code paths.
"""

import argparse
import json
import os
import secrets
import sys

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
MANY_LINES = 10


def _split(captured: list[dict]) -> tuple[list[str], int]:
    """The queries of a capture, and how many transaction-control statements it had besides."""
    statements = [query["sql"] for query in captured]
    queries = [sql for sql in statements if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL)]
    return queries, len(statements) - len(queries)


class Counter:
    def __init__(self, client, connection, capture):
        self.client = client
        self.connection = connection
        self.capture = capture
        self.results: list[dict] = []

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs = {"headers": headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        response = getattr(self.client, method.lower())(path, **kwargs)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.content[:300]!r}")
        return response

    def count(self, label: str, method: str, path: str, body: dict | None = None, token: str | None = None):
        """Call once and record the statements; a failed call is recorded as an error and gives None."""
        try:
            with self.capture(self.connection) as captured:
                response = self.call(method, path, body, token)
        except RuntimeError as exc:
            self.results.append({"label": label, "error": str(exc)})
            return None
        queries, control = _split(captured.captured_queries)
        self.results.append(
            {"label": label, "queries": len(queries), "transaction_statements": control, "sql": queries}
        )
        return response

    def pay(self, label: str, order, token: str) -> None:
        if order is None:
            self.results.append({"label": label, "error": "no order to pay (checkout failed)"})
            return
        self.count(label, "POST", "/payment", {"orderId": order.json()["id"], "token": "tok_visa"}, token)


def measure() -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from catalog.models import Product

    counter = Counter(Client(HTTP_HOST="127.0.0.1", raise_request_exception=False), connection, CaptureQueriesContext)
    product_ids = list(Product.objects.order_by("id").values_list("id", flat=True)[: MANY_LINES + 1])
    pages = max(1, Product.objects.count() // 20)
    middle = product_ids[len(product_ids) // 2]

    email = f"bench-queries-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(16)
    counter.call("POST", "/auth/register", {"name": "Bench", "email": email, "password": password})
    # This customer pays: its email counts as verified (measured here: queries, not the emailed link).
    get_user_model().objects.filter(email=email).update(email_verified_at=timezone.now())
    token = counter.call("POST", "/auth/login", {"email": email, "password": password}).json()["access"]

    counter.call("GET", "/bench/ping")
    counter.count("GET /bench/ping", "GET", "/bench/ping")
    counter.call("GET", "/products?page=1")
    counter.count("GET /products (page of 20)", "GET", f"/products?page={pages // 2}")
    counter.call("GET", f"/products/{product_ids[0]}")
    counter.count("GET /products/:id", "GET", f"/products/{middle}")

    first, *others = product_ids[:MANY_LINES]
    counter.call("POST", "/cart", {"productId": first, "quantity": 1}, token)  # creates the cart
    counter.count("POST /cart (1 line)", "POST", "/cart", {"productId": first, "quantity": 1}, token)
    counter.count("GET /cart (1 line)", "GET", "/cart", token=token)
    for product_id in others:
        counter.call("POST", "/cart", {"productId": product_id, "quantity": 1}, token)
    counter.count(f"POST /cart ({MANY_LINES} lines)", "POST", "/cart", {"productId": first, "quantity": 1}, token)
    counter.count(f"GET /cart ({MANY_LINES} lines)", "GET", "/cart", token=token)

    order = counter.count(f"POST /order/checkout ({MANY_LINES} lines)", "POST", "/order/checkout", {}, token)
    counter.pay(f"POST /payment ({MANY_LINES} lines)", order, token)
    counter.call("POST", "/cart", {"productId": product_ids[-1], "quantity": 1}, token)
    order = counter.count("POST /order/checkout (1 line)", "POST", "/order/checkout", {}, token)
    counter.pay("POST /payment (1 line)", order, token)
    return counter.results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to write the counts as JSON")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
    import django

    django.setup()
    results = measure()
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(results, out, indent=2)
    for result in results:
        if "error" in result:
            print(f"  error  {result['label']}: {result['error']}")
        else:
            control = result["transaction_statements"]
            print(f"{result['queries']:3d} queries (+{control} transaction control)  {result['label']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
