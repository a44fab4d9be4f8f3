"""``make bench``: load-test the shop over real HTTP and report against the performance targets in docs/benchmarks.md.

What it does, in order (everything on 127.0.0.1, and everything undone at the end, even on failure):

1. creates a throwaway PostgreSQL database ``bench_<random>`` on the server named by ``--server-url``
   (``BENCH_DATABASE_URL``; default ``postgres://postgres@127.0.0.1:5432/postgres``), migrates it and
   seeds the catalogue (``python -m bench.seed``: 10,000 products with stock and ledger);
2. counts SQL queries per request of every benchmarked endpoint in-process (``python -m bench.queries``);
3. starts gunicorn (``ecommerce.wsgi``, 4 sync workers, as ``make run`` serves it) on a free port with
   ``DEBUG=false``, the dummy payment gateway, a high auth throttle and ``BENCHMARK_ENDPOINTS=1`` (which
   mounts the trivial ``GET /bench/ping``, the framework's ceiling);
4. drives 16 concurrent clients (one asyncio process, aiohttp), each scenario for a bounded time after a
   short warm-up: ping, product list, product detail, add to cart, cart, checkout + payment, ping again;
5. reads each worker's resident memory, stops gunicorn, drops the database, and prints a markdown report
   with requests/s, p50, p99, errors, the ratio to the ceiling, queries per request and pass/fail.

Run it with the project's virtualenv: ``make bench``, or ``.venv/bin/python bench/run.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import math
import os
import platform
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
PAGE_SIZE = 20
CART_PRODUCTS_PER_CLIENT = 10  # the add-to-cart scenario keeps carts at this many lines
REQUEST_TIMEOUT = 10.0  # seconds, per request under load
MAX_ITERATIONS = 1_000_000  # per client and phase: a second bound besides the time
MAX_DURATION = 60.0  # seconds per scenario: keeps cart lines under their quantity cap and the run short
STEP_TIMEOUT = {"migrate": 300, "createcachetable": 60, "seed": 600, "queries": 300}
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The performance targets (docs/benchmarks.md).
LIST_MIN_RATIO, LIST_MAX_QUERIES = 0.50, 3
DETAIL_MIN_RATIO, DETAIL_MAX_QUERIES = 0.60, 2
CART_MAX_QUERIES = 6
MIN_ORDERS_PER_SECOND = 100.0
READ_P99_MS = 50.0
WORKER_MAX_RSS_MB = 200.0


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------- set-up and tear-down


def database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def admin_execute(server_url: str, statement) -> list[tuple]:
    import psycopg

    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def create_database(server_url: str, name: str) -> None:
    from psycopg import sql

    admin_execute(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(server_url: str, name: str) -> None:
    from psycopg import sql

    admin_execute(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def empty_redis(url: str) -> None:
    """Empty the benchmark's Redis database: a token version or rate limit left by an earlier run would apply
    to this run's users, who get the same ids."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.RedisError as exc:
        raise BenchError(f"cannot empty the Redis database {url}: {exc}") from exc


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_step(name: str, command: list[str], env: dict[str, str], log: Path) -> None:
    """Run one set-up command to completion (bounded in time), its output appended to ``log``."""
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        try:
            subprocess.run(  # noqa: S603 - our own interpreter and modules
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT[name], check=True
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise BenchError(f"{name} failed ({exc}); its output:\n{tail(log)}") from exc
    progress(f"{name}: done in {time.perf_counter() - started:.1f}s")


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process visible in /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        found.append((int(entry.name), ppid, name))
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def memory_kb(pid: int) -> dict[str, int]:
    result = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                result[key] = int(value.split()[0])
    return result


class Server:
    """gunicorn serving ecommerce.wsgi, in its own process group so that it can always be stopped."""

    def __init__(self, *, env: dict[str, str], port: int, workers: int, log: Path):
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "ecommerce.wsgi",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
        ]
        with self.log.open("a") as out:
            out.write(f"\n$ {' '.join(command)}\n")
            out.flush()
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{tail(self.log)}")
            if len(self.worker_pids()) == self.workers and self._healthy():
                return
            time.sleep(0.25)
        raise BenchError(f"gunicorn was not ready within {timeout:.0f}s:\n{tail(self.log)}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.port}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        return sorted(pid for pid, ppid, _ in processes() if ppid == self.process.pid)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


# --------------------------------------------------------------------------- load


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    completed: int = 0  # iterations of the scenario that fully succeeded
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def ok(self, label: str, seconds: float) -> None:
        self.latencies.setdefault(label, []).append(seconds)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message)


@dataclass
class Client:
    index: int
    token: str
    rng: random.Random
    cart_products: list[int]
    iteration: int = 0


class Load:
    """What every scenario needs: the HTTP session and the catalogue's shape."""

    def __init__(self, session, product_ids: tuple[int, int], pages: int):
        self.session = session
        self.first_id, self.last_id = product_ids
        self.pages = pages

    async def call(
        self, stats: Stats, label: str, method: str, path: str, *, token: str | None = None, body=None
    ) -> bytes | None:
        """One request; returns its body and records its latency if it succeeds (2xx), else counts an error."""
        import aiohttp

        headers = {"Authorization": f"Bearer {token}"} if token else None
        started = time.perf_counter()
        try:
            async with self.session.request(method, path, json=body, headers=headers) as response:
                payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            stats.error(f"{label}: {exc!r}")
            await asyncio.sleep(0.01)  # no tight loop against a server that refuses
            return None
        elapsed = time.perf_counter() - started
        if not 200 <= status < 300:
            stats.error(f"{label} -> {status}: {payload[:200].decode(errors='replace')}")
            await asyncio.sleep(0.01)
            return None
        stats.ok(label, elapsed)
        return payload

    # One iteration of each scenario; True when it fully succeeded.

    async def ping(self, client: Client, stats: Stats) -> bool:
        return await self.call(stats, "GET /bench/ping", "GET", "/bench/ping") is not None

    async def product_list(self, client: Client, stats: Stats) -> bool:
        page = client.rng.randint(1, self.pages)
        path = f"/products?page={page}&pageSize={PAGE_SIZE}"
        return await self.call(stats, "GET /products", "GET", path) is not None

    async def product_detail(self, client: Client, stats: Stats) -> bool:
        product_id = client.rng.randint(self.first_id, self.last_id)
        return await self.call(stats, "GET /products/:id", "GET", f"/products/{product_id}") is not None

    async def cart_add(self, client: Client, stats: Stats) -> bool:
        product_id = client.cart_products[client.iteration % len(client.cart_products)]
        client.iteration += 1
        body = {"productId": product_id, "quantity": 1}
        return await self.call(stats, "POST /cart", "POST", "/cart", token=client.token, body=body) is not None

    async def cart_get(self, client: Client, stats: Stats) -> bool:
        return await self.call(stats, "GET /cart", "GET", "/cart", token=client.token) is not None

    async def checkout_and_pay(self, client: Client, stats: Stats) -> bool:
        started = time.perf_counter()
        body = {"productId": client.rng.randint(self.first_id, self.last_id), "quantity": 1}
        if await self.call(stats, "POST /cart", "POST", "/cart", token=client.token, body=body) is None:
            return False
        order = await self.call(stats, "POST /order/checkout", "POST", "/order/checkout", token=client.token, body={})
        if order is None:
            return False
        payment = {"orderId": json.loads(order)["id"], "token": "tok_visa"}
        if await self.call(stats, "POST /payment", "POST", "/payment", token=client.token, body=payment) is None:
            return False
        stats.ok("order (add + checkout + pay)", time.perf_counter() - started)
        return True


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    method: str  # name of the Load method doing one iteration
    label: str  # the latency series that stands for the scenario
    unit: str = "req/s"


SCENARIOS = [
    Scenario("ping", "`GET /bench/ping` (ceiling)", "ping", "GET /bench/ping"),
    Scenario("list", "`GET /products` (page of 20, random page)", "product_list", "GET /products"),
    Scenario("detail", "`GET /products/:id` (random id)", "product_detail", "GET /products/:id"),
    Scenario("cart_add", f"`POST /cart` (carts of {CART_PRODUCTS_PER_CLIENT} lines)", "cart_add", "POST /cart"),
    Scenario("cart_get", f"`GET /cart` ({CART_PRODUCTS_PER_CLIENT} lines)", "cart_get", "GET /cart"),
    Scenario(
        "checkout",
        "checkout + payment (add 1, checkout, pay; dummy gateway)",
        "checkout_and_pay",
        "order (add + checkout + pay)",
        unit="orders/s",
    ),
    Scenario("ping_end", "`GET /bench/ping` (ceiling, again at the end)", "ping", "GET /bench/ping"),
]


@dataclass
class Result:
    scenario: Scenario
    seconds: float
    stats: Stats
    cpu: dict[str, float]  # percent of one core, per party

    @property
    def rate(self) -> float:
        return self.stats.completed / self.seconds if self.seconds else 0.0

    def percentile(self, q: float, label: str | None = None) -> float:
        """Nearest-rank percentile in milliseconds (NaN without samples)."""
        values = sorted(self.stats.latencies.get(label or self.scenario.label, []))
        if not values:
            return math.nan
        return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))] * 1000


async def phase(load: Load, scenario: Scenario, clients: list[Client], seconds: float) -> tuple[float, Stats]:
    """All clients run the scenario in a closed loop for ``seconds``; returns the elapsed time and the stats."""
    stats = Stats()
    iteration = getattr(load, scenario.method)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def client_loop(client: Client) -> None:
        for _ in range(MAX_ITERATIONS):
            if loop.time() >= deadline:
                return
            if await iteration(client, stats):
                stats.completed += 1

    started = time.perf_counter()
    # Each iteration makes at most 3 requests, each bounded by REQUEST_TIMEOUT.
    await asyncio.wait_for(
        asyncio.gather(*(client_loop(c) for c in clients)), timeout=seconds + 3 * REQUEST_TIMEOUT + 5
    )
    return time.perf_counter() - started, stats


class CpuMeter:
    """CPU used by the gunicorn workers, PostgreSQL, this load generator, and everything else on the machine."""

    def __init__(self, server: Server):
        self.server = server

    def sample(self) -> dict:
        every = processes()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        busy, total = machine_busy()
        return {
            "time": time.perf_counter(),
            "workers": {pid: process_cpu_seconds(pid) for pid in self.server.worker_pids()},
            "postgres": {pid: process_cpu_seconds(pid) for pid, _, name in every if name.startswith("postgres")},
            "client": usage.ru_utime + usage.ru_stime,
            "busy": busy / CLK_TCK,
            "total": total / CLK_TCK,
        }

    @staticmethod
    def percent(before: dict, after: dict) -> dict[str, float]:
        """Percent of one core per party over the interval (a process born within it counts from 0)."""
        wall = after["time"] - before["time"]

        def used(party: str) -> float:
            return sum(max(0.0, cpu - before[party].get(pid, 0.0)) for pid, cpu in after[party].items())

        result = {
            "workers": 100 * used("workers") / wall,
            "postgres": 100 * used("postgres") / wall,
            "client": 100 * (after["client"] - before["client"]) / wall,
        }
        span = after["total"] - before["total"]
        result["machine"] = 100 * (after["busy"] - before["busy"]) / span * (os.cpu_count() or 1) if span else 0.0
        result["other"] = max(0.0, result["machine"] - result["workers"] - result["postgres"] - result["client"])
        return result


def wait_for_quiet(patience: float, threshold: float = 25.0) -> float:
    """How busy the machine is before the run; waits up to ``patience`` seconds for it to fall below ``threshold``."""
    deadline = time.monotonic() + patience
    load = machine_load_before()
    while load >= threshold and time.monotonic() < deadline:
        progress(f"machine {load:.0f}% busy (of one core): waiting for it to fall below {threshold:.0f}%")
        time.sleep(min(30.0, max(0.0, deadline - time.monotonic())))
        load = machine_load_before()
    progress(f"machine {load:.0f}% busy (of one core) before the benchmark starts")
    return load


def machine_load_before(seconds: float = 3.0) -> float:
    """Percent of one core busy on the whole machine over a few idle seconds (others' work)."""
    busy, total = machine_busy()
    time.sleep(seconds)
    busy_after, total_after = machine_busy()
    span = total_after - total
    return 100 * (busy_after - busy) / span * (os.cpu_count() or 1) if span else 0.0


async def drive(args, server: Server, product_ids: tuple[int, int], product_count: int) -> list[Result]:
    import aiohttp

    base = f"http://{HOST}:{server.port}"
    pages = max(1, product_count // PAGE_SIZE)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)  # gunicorn's sync workers close every connection
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(base_url=base, connector=connector, timeout=timeout) as session:
        load = Load(session, product_ids, pages)
        clients = await register_clients(session, args.concurrency, product_ids, args.seed, server.env["DATABASE_URL"])
        meter = CpuMeter(server)
        results = []
        for scenario in SCENARIOS:
            if args.only and scenario.key not in args.only:
                continue
            if scenario.key == "checkout":
                await asyncio.gather(*(load.call(Stats(), "clear", "DELETE", "/cart", token=c.token) for c in clients))
            progress(f"{scenario.key}: warm-up {args.warmup:.0f}s, then {args.duration:.0f}s measured")
            if args.warmup:
                await phase(load, scenario, clients, args.warmup)
            before = meter.sample()
            seconds, stats = await phase(load, scenario, clients, args.duration)
            cpu = CpuMeter.percent(before, meter.sample())
            result = Result(scenario, seconds, stats, cpu)
            progress(
                f"{scenario.key}: {result.rate:.1f} {scenario.unit}, p50 {result.percentile(0.5):.1f} ms, "
                f"p99 {result.percentile(0.99):.1f} ms, {stats.errors} errors"
            )
            for sample in stats.error_samples:
                progress(f"  error: {sample}")
            results.append(result)
    return results


async def register_clients(session, count: int, product_ids: tuple[int, int], seed: int, db_url: str) -> list[Client]:
    """Register one customer per client (full-strength password hashing: slow, so not measured)."""
    import aiohttp
    from psycopg import sql

    run = secrets.token_hex(4)
    first, last = product_ids

    async def register(index: int) -> Client:
        body = {
            "name": f"Bench client {index}",
            "email": f"bench-{run}-{index}@example.com",
            "password": secrets.token_urlsafe(18),
        }
        timeout = aiohttp.ClientTimeout(total=120)
        async with session.post("/auth/register", json=body, timeout=timeout) as response:
            if response.status != 202:
                raise BenchError(f"registration failed: {response.status} {(await response.read())[:300]!r}")
        login = {"email": body["email"], "password": body["password"]}
        async with session.post("/auth/login", json=login, timeout=timeout) as response:
            payload = await response.read()
            if response.status != 200:
                raise BenchError(f"sign-in failed: {response.status} {payload[:300]!r}")
        rng = random.Random(seed * 1000 + index)  # noqa: S311 - repeatable load, not secrets
        cart_products = [rng.randint(first, last) for _ in range(CART_PRODUCTS_PER_CLIENT)]
        return Client(index, json.loads(payload)["access"], rng, cart_products)

    started = time.perf_counter()
    clients = await asyncio.wait_for(asyncio.gather(*(register(i) for i in range(count))), timeout=300)
    # They may pay: their emails count as verified (the bench measures shopping, not the emailed link).
    verify = sql.SQL("UPDATE accounts_user SET email_verified_at = now() WHERE email LIKE {}")
    admin_execute(db_url, verify.format(sql.Literal(f"bench-{run}-%")))
    progress(f"registered {count} customers in {time.perf_counter() - started:.1f}s")
    return list(clients)


# --------------------------------------------------------------------------- report


def machine_facts(server_url: str) -> dict[str, str]:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    try:
        postgres = admin_execute(server_url, "SHOW server_version")[0][0]
    except Exception as exc:  # a fact for the report, not a reason to fail
        postgres = f"unknown ({exc.__class__.__name__})"

    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        "CPU": f"{os.cpu_count()} cores (nproc), {cpu_model}",
        "Memory": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": postgres,
        "Django / DRF / gunicorn / aiohttp": " / ".join(
            version(p) for p in ("django", "djangorestframework", "gunicorn", "aiohttp")
        ),
    }


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def query_cell(counts: dict[str, dict], *labels: str) -> str:
    cells = []
    for label in labels:
        entry = counts.get(label)
        if entry is None:
            continue
        suffix = label[label.rindex("(") + 1 : -1] if label.endswith(("line)", "lines)")) else ""
        if "error" in entry:
            cells.append(f"error{f' ({suffix})' if suffix else ''}")
            continue
        text = str(entry["queries"])
        if entry["transaction_statements"]:
            text += f" +{entry['transaction_statements']} tx"
        cells.append(f"{text}{f' ({suffix})' if suffix else ''}")
    return "; ".join(cells) or "n/a"


def query_numbers(counts: dict[str, dict], *labels: str) -> list[int] | None:
    numbers = []
    for label in labels:
        entry = counts.get(label)
        if entry is None or "error" in entry:
            return None
        numbers.append(entry["queries"])
    return numbers


def verdict(failures: list[str]) -> str:
    return "met" if not failures else "**not met**: " + "; ".join(failures)


def evaluate(key: str, result: Result, ceiling: float, counts: dict[str, dict]) -> str:
    ratio = result.rate / ceiling if ceiling else math.nan
    p99 = result.percentile(0.99)
    failures: list[str] = []

    def read_latency() -> None:
        if not p99 < READ_P99_MS:
            failures.append(f"p99 {fmt(p99)} ms >= {READ_P99_MS:.0f}")

    def ratio_at_least(minimum: float) -> None:
        if not ratio >= minimum:
            failures.append(f"{fmt(100 * ratio, 0)}% < {100 * minimum:.0f}% of ceiling")

    def queries_at_most(maximum: int, *labels: str, fixed: bool = False) -> None:
        numbers = query_numbers(counts, *labels)
        if numbers is None:
            failures.append("queries not measured (error)")
            return
        if max(numbers) > maximum:
            failures.append(f"{max(numbers)} queries > {maximum}")
        if fixed and len(set(numbers)) > 1:
            failures.append(f"queries grow with lines ({' -> '.join(map(str, numbers))})")

    if result.stats.errors:
        failures.append(f"{result.stats.errors} errors")
    if key == "list":
        ratio_at_least(LIST_MIN_RATIO)
        queries_at_most(LIST_MAX_QUERIES, "GET /products (page of 20)")
        read_latency()
    elif key == "detail":
        ratio_at_least(DETAIL_MIN_RATIO)
        queries_at_most(DETAIL_MAX_QUERIES, "GET /products/:id")
        read_latency()
    elif key == "cart_add":
        queries_at_most(CART_MAX_QUERIES, "POST /cart (1 line)", "POST /cart (10 lines)", fixed=True)
    elif key == "cart_get":
        queries_at_most(CART_MAX_QUERIES, "GET /cart (1 line)", "GET /cart (10 lines)", fixed=True)
        read_latency()
    elif key == "checkout":
        if not result.rate >= MIN_ORDERS_PER_SECOND:
            failures.append(f"{fmt(result.rate)} orders/s < {MIN_ORDERS_PER_SECOND:.0f}")
        for endpoint in ("POST /order/checkout", "POST /payment"):
            queries_at_most(10**6, f"{endpoint} (1 line)", f"{endpoint} (10 lines)", fixed=True)
    else:
        return "(reference)"
    return verdict(failures)


QUERY_LABELS = {
    "ping": ["GET /bench/ping"],
    "ping_end": ["GET /bench/ping"],
    "list": ["GET /products (page of 20)"],
    "detail": ["GET /products/:id"],
    "cart_add": ["POST /cart (1 line)", "POST /cart (10 lines)"],
    "cart_get": ["GET /cart (1 line)", "GET /cart (10 lines)"],
}
STEP_QUERY_LABELS = {
    "POST /cart": ["POST /cart (1 line)"],
    "POST /order/checkout": ["POST /order/checkout (1 line)", "POST /order/checkout (10 lines)"],
    "POST /payment": ["POST /payment (1 line)", "POST /payment (10 lines)"],
}


def render(
    *,
    args,
    facts: dict[str, str],
    results: list[Result],
    counts: dict[str, dict],
    memory: dict[int, dict],
    idle_load: float,
) -> str:
    pings = [r.rate for r in results if r.scenario.key in {"ping", "ping_end"}]
    ceiling = sum(pings) / len(pings) if pings else math.nan
    lines = [
        f"# make bench: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in facts.items()),
        "",
        f"gunicorn `ecommerce.wsgi`, {args.workers} sync workers; {args.concurrency} concurrent clients (closed loop, "
        f"one aiohttp process); {args.products:,} products; {args.warmup:.0f} s warm-up + {args.duration:.0f} s "
        f"measured per scenario. Ceiling = mean of the two ping runs = **{fmt(ceiling, 0)} req/s**.",
        "",
        "| Scenario | Rate | p50 ms | p99 ms | Errors | vs ceiling | SQL queries / request | Target |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for result in results:
        key = result.scenario.key
        ratio = result.rate / ceiling if ceiling else math.nan
        lines.append(
            f"| {result.scenario.title} | {fmt(result.rate)} {result.scenario.unit} | {fmt(result.percentile(0.5))} "
            f"| {fmt(result.percentile(0.99))} | {result.stats.errors} | {fmt(100 * ratio, 0)}% "
            f"| {query_cell(counts, *QUERY_LABELS.get(key, []))} | {evaluate(key, result, ceiling, counts)} |"
        )
        if key == "checkout":
            for step, labels in STEP_QUERY_LABELS.items():
                rate = len(result.stats.latencies.get(step, [])) / result.seconds
                lines.append(
                    f"| &nbsp;&nbsp;↳ `{step}` within it | {fmt(rate)} req/s | {fmt(result.percentile(0.5, step))} "
                    f"| {fmt(result.percentile(0.99, step))} | | {fmt(100 * rate / ceiling, 0)}% "
                    f"| {query_cell(counts, *labels)} | |"
                )
    lines += [
        "",
        "SQL queries: counted in-process with `CaptureQueriesContext`, one request each (after one unmeasured "
        "call); `+N tx` = transaction control (BEGIN/COMMIT/SAVEPOINT/RELEASE) besides the queries.",
        "",
        "CPU during each measured phase, in % of one core (the machine has "
        f"{os.cpu_count()} cores = {100 * (os.cpu_count() or 1)}%):",
        "",
        "| Scenario | gunicorn workers | PostgreSQL (all databases) | load generator | anything else | whole machine "
        "| worker CPU ms per request (order) | PostgreSQL CPU ms per request (order) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        cpu = result.cpu
        per_unit = 10 / result.rate if result.rate else math.nan  # percent of a core -> ms per request
        lines.append(
            f"| {result.scenario.key} | {cpu['workers']:.0f}% | {cpu['postgres']:.0f}% | {cpu['client']:.0f}% "
            f"| {cpu['other']:.0f}% | {cpu['machine']:.0f}% | {fmt(cpu['workers'] * per_unit, 2)} "
            f"| {fmt(cpu['postgres'] * per_unit, 2)} |"
        )
    lines += [
        "",
        f"Before the run, with nothing of the benchmark running, the machine was {idle_load:.0f}% busy "
        "(of one core): other work on a shared machine lowers every figure above, ratios less than absolutes.",
    ]
    lines += ["", "gunicorn workers' memory at the end of the run:", ""]
    lines += ["| Worker pid | VmRSS MB | VmHWM (peak) MB | Target: < 200 MB |", "|---|---:|---:|---|"]
    for pid, mem in memory.items():
        rss, hwm = mem.get("VmRSS", 0) / 1024, mem.get("VmHWM", 0) / 1024
        lines.append(f"| {pid} | {rss:.1f} | {hwm:.1f} | {'met' if hwm < WORKER_MAX_RSS_MB else '**not met**'} |")
    errors = [(r.scenario.key, s) for r in results for s in r.stats.error_samples]
    if errors:
        lines += ["", "First errors seen:", ""] + [f"- {key}: `{sample}`" for key, sample in errors]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Load benchmark of the shop (targets in docs/benchmarks.md).")
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER_URL),
        help="a PostgreSQL URL whose server gets the throwaway database (env BENCH_DATABASE_URL; default %(default)s)",
    )
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per scenario (%(default)s)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each (%(default)s)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (%(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (%(default)s)")
    parser.add_argument("--products", type=int, default=10_000, help="catalogue size (%(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the clients' choices")
    parser.add_argument(
        "--only",
        type=lambda s: set(s.split(",")),
        help=f"comma-separated scenarios, some of: {', '.join(s.key for s in SCENARIOS)}",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="on a shared machine: wait up to this long for other work to quieten before starting",
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="serve the cache (rate limits, token versions, pages) from this Redis database, as production does, "
        "instead of the database cache table that `make run` uses; the benchmark EMPTIES it first "
        "(e.g. redis://127.0.0.1:6379/15)",
    )
    parser.add_argument("--output", type=Path, help="also write the markdown report here")
    parser.add_argument("--json", type=Path, help="also write raw numbers here")
    args = parser.parse_args(argv)
    if not 0 <= args.wait_idle <= 3600:
        parser.error("--wait-idle must be within 0..3600 s")
    if not 1 <= args.duration <= MAX_DURATION or not 0 <= args.warmup <= MAX_DURATION:
        parser.error(f"--duration must be within 1..{MAX_DURATION:.0f} s and --warmup within 0..{MAX_DURATION:.0f} s")
    if not 1 <= args.concurrency <= 256 or not 1 <= args.workers <= 32 or not 100 <= args.products <= 100_000:
        parser.error("--concurrency 1..256, --workers 1..32, --products 100..100000")
    known = {s.key for s in SCENARIOS}
    if args.only and not args.only <= known:
        parser.error(f"--only takes some of: {', '.join(sorted(known))}")
    return args


def server_env(db_url: str, redis_url: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        ALLOWED_HOSTS=f"{HOST},localhost",
        PAYMENT_GATEWAY="dummy",
        ALLOW_DUMMY_GATEWAY="true",  # a benchmark, not a shop: no money is taken
        STRIPE_SECRET_KEY="",
        REDIS_URL=redis_url,  # empty: the database cache, as `make run` has it
        AUTH_THROTTLE_RATE="1000000/min",
        # Each client orders and pays without pause (some orders left unpaid): the abuse limits would refuse it.
        MAX_PENDING_ORDERS="1000000",
        CHECKOUT_THROTTLE_RATE="1000000/min",
        PAYMENT_THROTTLE_RATE="1000000/min",
        BENCHMARK_ENDPOINTS="1",
        DJANGO_SETTINGS_MODULE="ecommerce.settings",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("JWT_SIGNING_KEY", None)
    return env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import aiohttp  # noqa: F401
        import psycopg
    except ImportError as exc:
        print(f"bench needs the dev requirements (make bench installs them): {exc}", file=sys.stderr)
        return 2

    def stop_on_signal(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)

    name = f"bench_{secrets.token_hex(6)}"
    db_url = database_url(args.server_url, name)
    env = server_env(db_url, args.redis_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    log = workdir / "bench.log"
    server = Server(env=env, port=free_port(), workers=args.workers, log=workdir / "gunicorn.log")
    created = False
    try:
        facts = machine_facts(args.server_url)
        facts["Cache"] = f"Redis ({args.redis_url})" if args.redis_url else "the database cache table (no REDIS_URL)"
        if args.redis_url:
            empty_redis(args.redis_url)
        idle_load = wait_for_quiet(args.wait_idle)
        try:
            create_database(args.server_url, name)
        except psycopg.Error as exc:
            raise BenchError(f"cannot create a database on {args.server_url}: {exc}") from exc
        created = True
        progress(f"database {name} created on {urlsplit(args.server_url).hostname}; logs in {workdir}")
        python = sys.executable
        run_step("migrate", [python, "manage.py", "migrate", "--noinput"], env, log)
        run_step("createcachetable", [python, "manage.py", "createcachetable"], env, log)
        run_step("seed", [python, "-m", "bench.seed", "--products", str(args.products)], env, log)
        admin_execute(db_url, "VACUUM ANALYZE")  # the planner statistics a live database would have
        counts_file = workdir / "queries.json"
        run_step("queries", [python, "-m", "bench.queries", "--out", str(counts_file)], env, log)
        counts = {entry["label"]: entry for entry in json.loads(counts_file.read_text())}
        first, last, product_count = admin_execute(
            db_url, "SELECT min(id), max(id), count(*) FROM catalog_product WHERE is_active"
        )[0]

        server.start()
        progress(f"gunicorn up on {HOST}:{server.port}, workers {server.worker_pids()}")
        results = asyncio.run(drive(args, server, (first, last), product_count))
        memory = {pid: memory_kb(pid) for pid in server.worker_pids()}
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        if created:
            try:
                drop_database(args.server_url, name)
                progress(f"database {name} dropped")
            except Exception as exc:  # report, and keep cleaning up
                print(f"could not drop database {name}: {exc}", file=sys.stderr)
        if server.process is not None and server.process.returncode not in (0, None):
            progress(f"gunicorn exited with {server.process.returncode}")
    report = render(args=args, facts=facts, results=results, counts=counts, memory=memory, idle_load=idle_load)
    print(report)
    if args.output:
        args.output.write_text(report)
    if args.json:
        raw = {
            "machine": facts,
            "machine_busy_before_percent": idle_load,
            "queries": counts,
            "memory_kb": memory,
            "results": [
                {
                    "scenario": r.scenario.key,
                    "rate": r.rate,
                    "unit": r.scenario.unit,
                    "seconds": r.seconds,
                    "completed": r.stats.completed,
                    "errors": r.stats.errors,
                    "error_samples": r.stats.error_samples,
                    "cpu_percent": r.cpu,
                    "latency_ms": {
                        label: {"p50": r.percentile(0.5, label), "p99": r.percentile(0.99, label), "n": len(v)}
                        for label, v in r.stats.latencies.items()
                    },
                }
                for r in results
            ],
        }
        args.json.write_text(json.dumps(raw, indent=2))
    with contextlib.suppress(OSError):
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
