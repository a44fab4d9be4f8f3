"""What running the shop split costs a purchase: latency against one gunicorn and through the split topology.

A purchase is the customer's three requests: add to cart, check out, pay (dummy gateway). Each mode gets a
new database (tests/e2e/harness.py), a few unmeasured purchases to warm up, then ``--purchases`` purchases
one after another, by as many customers. For the split topology it also counts what crossed the wire
between its processes per purchase (the ``/internal`` calls in the processes' request logs, grouped by the
request id each step sends) and the events the purchase wrote. Prints a markdown report.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.split_latency

Needs PostgreSQL and nginx. Not in CI.
"""

import argparse
import collections
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from ecommerce import remote
from tests.e2e.harness import running_server, running_split
from tests.e2e.test_purchase_flow import staff_member
from tests.split.conftest import customers, product_with_stock

STEPS = ("POST /cart", "POST /order/checkout", "POST /payment")
INTERNAL_CALL = re.compile(r"POST /internal/(\w+)/(\w+) (\d{3}) ([\d.]+)ms request_id=(\S+)")
EVENTS_SINCE = (
    "import json; from collections import Counter; from django.conf import settings; "
    "from django.utils.dateparse import parse_datetime; from outbox.models import OutboxEvent; "
    "since = parse_datetime({since!r}); "
    "print(json.dumps(Counter(t for alias in settings.DATABASES for t in "
    "OutboxEvent.objects.using(alias).filter(created_at__gte=since).values_list('type', flat=True))))"
)


class TempDirs:
    """What the harness needs of pytest's tmp_path_factory: new directories (under one root)."""

    def __init__(self, root: Path):
        self.root = root

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))


def purchases(server, count: int, tag: str) -> dict[str, list[float]]:
    """``count`` purchases, one per new customer; milliseconds per step (request ids ``<tag>-<n>-<step>``)."""
    staff = staff_member(server)
    product_id = product_with_stock(staff, count)
    timings = collections.defaultdict(list)
    for n, customer in enumerate(customers(server, count)):

        def step(index: int, path: str, body: dict, customer=customer, n=n) -> dict:
            started = time.perf_counter()
            response = customer.call("POST", path, body, **{"X-Request-ID": f"{tag}-{n}-{index}"})
            timings[STEPS[index]].append((time.perf_counter() - started) * 1000)
            assert response.status_code in (200, 201), (path, response.status_code, response.text)
            return response.json()

        step(0, "/cart", {"productId": product_id, "quantity": 1})
        order = step(1, "/order/checkout", {})
        step(2, "/payment", {"orderId": order["id"], "token": "tok_visa"})
        timings["purchase"].append(sum(timings[name][-1] for name in STEPS))
    return timings


def measure(server, count: int, tag: str) -> tuple[dict[str, list[float]], dict[str, int]]:
    purchases(server, 3, f"warm-{tag}")
    since = server.manage("shell", "--no-imports", "-c", "from django.utils import timezone; print(timezone.now())")
    timings = purchases(server, count, tag)
    events = json.loads(server.manage("shell", "--no-imports", "-c", EVENTS_SINCE.format(since=since.strip())))
    return timings, events


def internal_calls(run_dir: Path, tag: str) -> tuple[dict[str, collections.Counter], dict[str, list[float]]]:
    """Per step, the /internal calls made for it (all processes' logs), summed over the measured purchases;
    and the owners' durations (ms) of the questions (``READS``: no idempotency record) and of the other calls."""
    calls, durations = collections.defaultdict(collections.Counter), collections.defaultdict(list)
    for log in run_dir.glob("*.log"):
        for app, name, status, duration, request_id in INTERNAL_CALL.findall(log.read_text(errors="replace")):
            if request_id.startswith(f"{tag}-"):
                calls[STEPS[int(request_id.rsplit("-", 1)[1])]][f"{app}.{name} {status}"] += 1
                durations["question" if name in remote.READS.get(app, ()) else "write"].append(float(duration))
    return calls, durations


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{statistics.median(ordered):.0f} ms (p90 {ordered[int(0.9 * (len(ordered) - 1))]:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        dirs = TempDirs(Path(root))
        with running_server(dirs) as server:
            one, one_events = measure(server, args.purchases, "one")
        with running_split(dirs) as server:
            split, split_events = measure(server, args.purchases, "split")
            calls, durations = internal_calls(server.split.run_dir, "split")

    print(f"## A purchase, one process vs split ({args.purchases} purchases each, medians)\n")
    print("| step | one process | split (nginx + 3 processes) | split / one |\n|---|---|---|---|")
    for step in (*STEPS, "purchase"):
        ratio = statistics.median(split[step]) / statistics.median(one[step])
        print(f"| {step} | {summary(one[step])} | {summary(split[step])} | {ratio:.1f}x |")
    print("\n## What crosses the wire per purchase (split)\n")
    print("| step | internal calls per purchase |\n|---|---|")
    for step in STEPS:
        listed = ", ".join(f"{path} x{count / args.purchases:g}" for path, count in sorted(calls[step].items()))
        print(f"| {step} | {sum(calls[step].values()) / args.purchases:g}: {listed or '-'} |")
    for kind in ("question", "write"):
        print(f"\nOwner's time per /internal {kind}: {summary(durations[kind])}, {len(durations[kind])} calls")
    for name, events in (("one process", one_events), ("split", split_events)):
        listed = ", ".join(f"{kind} x{count / args.purchases:g}" for kind, count in sorted(events.items()))
        print(f"\nEvents written per purchase ({name}): {listed}")


if __name__ == "__main__":
    main()
