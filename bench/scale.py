"""``make bench-scale``: the product list at 10,000 and at 1,000,000 products, same requests, same run.

For each catalogue size: a throwaway PostgreSQL database, ``migrate``, ``bench.seed`` (bulk), ``VACUUM
ANALYZE``; then five list requests (the deep page both by number and after the ``nextCursor`` of the page
before it), each measured two ways:

- cold: in-process (Django's test client), the page cache emptied before every request, so each one pays
  its queries (catalogue version, page with its bounded count, stock): the cost of the first request after a
  catalogue change. Median of ``--cold-requests``.
- served: gunicorn (4 sync workers) under ``wrk -t2 -c16`` for ``--duration``, as clients get it (pages
  cached per catalogue version, stock read live).

Needs ``wrk`` and a PostgreSQL server (``BENCH_DATABASE_URL``). Not part of CI; prints markdown.
"""

# ruff: noqa: S603, S607 - a benchmark tool: it starts wrk, gunicorn and Python on this machine, by design
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import HOST, admin_execute, create_database, database_url, drop_database, free_port  # noqa: E402

PAGE_SIZE = 20


DEEP_BY_CURSOR = "deep page by cursor (5 from the end)"


def requests_for(count: int) -> dict[str, str]:
    """The requests measured; the deep page by cursor is the same page as the deep page by number, read after the
    ``nextCursor`` of the page before it (which the cold run fetches first: see COLD_SCRIPT)."""
    deep = max(2, count // PAGE_SIZE - 4)  # five pages from the end
    return {
        "first page": f"/products?pageSize={PAGE_SIZE}",
        "deep page (5 from the end)": f"/products?pageSize={PAGE_SIZE}&page={deep}",
        DEEP_BY_CURSOR: f"/products?pageSize={PAGE_SIZE}&page={deep - 1}",
        "category filter, page 2": f"/products?pageSize={PAGE_SIZE}&category=category-07&page=2",
        "search `product 0042`": f"/products?pageSize={PAGE_SIZE}&search=product%200042",
    }


def run(cmd: list[str], env: dict, timeout: int) -> str:
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr[-2000:]}")
    return done.stdout


COLD_SCRIPT = """
import json, os, statistics, sys, time
from urllib.parse import quote
import django
django.setup()
from django.test import Client
from catalog import pages
client = Client(HTTP_HOST="127.0.0.1")
paths = json.loads(sys.argv[1])
before = client.get(paths[sys.argv[3]]).json()  # the page before: its nextCursor
paths[sys.argv[3]] = f"/products?pageSize={len(before['results'])}&cursor={quote(before['nextCursor'])}"
out = {}
for label, path in paths.items():
    times = []
    for _ in range(int(sys.argv[2])):
        pages.clear_cache()
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    out[label] = statistics.median(times)
print(json.dumps({"cold": out, "paths": paths}))
"""


def wrk(url: str, duration: str) -> tuple[float, float]:
    subprocess.run(["wrk", "-t2", "-c16", "-d2s", url], capture_output=True, check=True)
    text = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{duration}", "--latency", url], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rate, float(p99.group(1)) * factor


def measure(server_url: str, count: int, args) -> dict:
    import json

    name = f"bench_scale_{count}"
    drop_database(server_url, name)
    create_database(server_url, name)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(server_url, name),
        "DJANGO_SETTINGS_MODULE": "ecommerce.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-scale-" + "x" * 50,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "PAYMENT_GATEWAY": "dummy",
        "ALLOW_DUMMY_GATEWAY": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    python = sys.executable
    gunicorn = None
    try:
        run([python, "manage.py", "migrate", "--noinput", "-v0"], env, 600)
        started = time.perf_counter()
        run([python, "-m", "bench.seed", "--products", str(count), "--stock", "1000"], env, 3600)
        seed_seconds = time.perf_counter() - started
        admin_execute(database_url(server_url, name), "VACUUM ANALYZE")
        script = [python, "-c", COLD_SCRIPT, json.dumps(requests_for(count)), str(args.cold_requests), DEEP_BY_CURSOR]
        measured = json.loads(run(script, env, 1800))
        cold, paths = measured["cold"], measured["paths"]  # the cursor of the deep page, made by this server
        port = free_port()
        gunicorn = subprocess.Popen(
            [str(Path(python).parent / "gunicorn"), "ecommerce.wsgi", "-b", f"{HOST}:{port}", "-w", "4"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=5).close()
                break
            except OSError:
                time.sleep(0.2)
        served = {label: wrk(f"http://{HOST}:{port}{path}", args.duration) for label, path in paths.items()}
        return {"seed_seconds": seed_seconds, "cold": cold, "served": served, "paths": paths}
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(30)
        if not args.keep:
            drop_database(server_url, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--duration", default="10s", help="wrk duration per request")
    parser.add_argument("--cold-requests", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--server-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    sizes = [int(size) for size in args.sizes.split(",")]
    results = {}
    for size in sizes:
        print(f"catalogue of {size} products...", file=sys.stderr, flush=True)
        results[size] = measure(args.server_url, size, args)
    base, top = sizes[0], sizes[-1]
    print(f"wrk -t2 -c16 -d{args.duration}, gunicorn 4 sync workers; cold = median of {args.cold_requests} requests")
    print(f"in-process with the page cache emptied before each. Seed: {base:,} products in")
    print(f"{results[base]['seed_seconds']:.0f} s, {top:,} in {results[top]['seed_seconds']:.0f} s.\n")
    print(f"| request | cold ms, {base:,} | cold ms, {top:,} | ratio | served req/s, {base:,} | p99 ms | ", end="")
    print(f"served req/s, {top:,} | p99 ms | latency ratio (p99) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label in results[base]["cold"]:
        cold_a, cold_b = results[base]["cold"][label], results[top]["cold"][label]
        (rate_a, p99_a), (rate_b, p99_b) = results[base]["served"][label], results[top]["served"][label]
        print(
            f"| {label} | {cold_a:.1f} | {cold_b:.1f} | {cold_b / cold_a:.2f}x | {rate_a:.0f} | {p99_a:.1f} "
            f"| {rate_b:.0f} | {p99_b:.1f} | {p99_b / p99_a:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
