"""What one completed order costs a worker, in-process: CPU and SQL of add-to-cart, checkout and payment.

Runs the benchmark's checkout scenario (``POST /cart`` of one product, ``POST /order/checkout``, ``POST /payment``
with ``tok_visa``) through ``ecommerce.wsgi.application``, as gunicorn would call it, without network or server::

    DATABASE_URL=postgres://... BENCHMARK_ENDPOINTS=1 DEBUG=false SECRET_KEY=... PAYMENT_GATEWAY=dummy \\
        ALLOW_DUMMY_GATEWAY=1 MAX_PENDING_ORDERS=1000000 CHECKOUT_THROTTLE_RATE=1000000/min \\
        PAYMENT_THROTTLE_RATE=1000000/min python -m bench.order_cost 2>&1 >/dev/null | grep ^order_cost

on a seeded database (``python -m bench.seed``). It prints (on standard error, marked ``order_cost:``) the
statements one order sends and the CPU milliseconds of this process per order (the worker's share; PostgreSQL's
is not included, nor is the wait for it), the best of ``--rounds``; ``--profile PATH`` writes a pyinstrument
profile of one more round (HTML, or text for ``.txt``).
"""

import argparse
import json
import os
import sys
import time

from bench.floor import environ_for


def environ(method: str, path: str, token: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    return environ_for(
        path, method=method, body=data, HTTP_AUTHORIZATION=f"Bearer {token}", CONTENT_TYPE="application/json"
    )


def call(app, method: str, path: str, token: str, body: dict | None = None) -> bytes:
    status_line = []
    response = app(
        environ(method, path, token, body), lambda status, headers, exc_info=None: status_line.append(status)
    )
    content = b"".join(response)
    response.close()
    if not status_line[0].startswith("2"):
        raise RuntimeError(f"{method} {path} -> {status_line[0]}: {content[:300]!r}")
    return content


def customer() -> str:
    """A new customer whose email counts as verified; returns an access token."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    client = Client(HTTP_HOST="127.0.0.1")
    email = f"order-cost-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(16)
    client.post(
        "/auth/register", {"name": "Bench", "email": email, "password": password}, content_type="application/json"
    )
    get_user_model().objects.filter(email=email).update(email_verified_at=timezone.now())
    login = client.post("/auth/login", {"email": email, "password": password}, content_type="application/json")
    return login.json()["access"]


def order(app, token: str, product_id: int) -> None:
    call(app, "POST", "/cart", token, {"productId": product_id, "quantity": 1})
    order_id = json.loads(call(app, "POST", "/order/checkout", token, {}))["id"]
    call(app, "POST", "/payment", token, {"orderId": order_id, "token": "tok_visa"})


def report(line: str) -> None:
    """A result, on standard error (standard output gets the console backend's emails), marked for grep."""
    print(f"order_cost: {line}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="orders per round (200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best is reported (3)")
    parser.add_argument("--profile", help="write a pyinstrument profile of one more round here (.html or .txt)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.models import Product
    from ecommerce.wsgi import application

    products = list(Product.objects.filter(is_active=True).order_by("id").values_list("id", flat=True)[:100])
    token = customer()
    order(application, token, products[0])  # first-use costs (the cart, connections, URL resolver)

    with CaptureQueriesContext(connection) as captured:
        order(application, token, products[1])
    statements = [query["sql"] for query in captured.captured_queries]
    control = sum(sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")) for sql in statements)
    report(f"one order: {len(statements) - control} queries + {control} transaction control")

    best = float("inf")
    for _ in range(args.rounds):
        started = time.process_time()
        for n in range(args.orders):
            order(application, token, products[n % len(products)])
        best = min(best, (time.process_time() - started) / args.orders * 1000)
    report(f"worker CPU per order: {best:.2f} ms (best of {args.rounds} rounds of {args.orders} orders)")

    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        with profiler:
            for n in range(args.orders):
                order(application, token, products[n % len(products)])
        text = args.profile.endswith(".txt")
        output = profiler.output_text(unicode=True, show_all=False) if text else profiler.output_html()
        with open(args.profile, "w", encoding="utf-8") as out:
            out.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
