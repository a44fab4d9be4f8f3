"""The framework floor, in-process: what one request costs through Django's WSGI handler, per endpoint.

Compares the trivial DRF endpoint (``/bench/ping``) with a plain Django JSON view (``/bench/django-ping``)
in the same process, and splits the difference with variants of the stack (middleware removed one at a
time, request logging off) and, with ``--profile``, a pyinstrument profile of one endpoint::

    BENCHMARK_ENDPOINTS=1 DEBUG=false SECRET_KEY=... python -m bench.floor --breakdown 2>/dev/null
    BENCHMARK_ENDPOINTS=1 DEBUG=false SECRET_KEY=... python -m bench.floor --instructions --requests 200

(``--instructions`` counts instructions with valgrind's callgrind instead of timing: slower, but the same
figure whatever else the machine is doing.)

(the request log goes to standard error, as under gunicorn: send it to /dev/null rather than a terminal).

No network and no server: each request is a WSGI environ handed to ``ecommerce.wsgi.application``, as
gunicorn would, so gunicorn's own per-request cost is not included (it is the same for every endpoint).
Costs are CPU time of this process (so waiting for PostgreSQL or for a shared core does not count), over
interleaved rounds, best round reported: the machine is shared, and noise only ever adds time.
"""

import argparse
import io
import logging
import os
import sys
import time

PATHS = ["/bench/django-ping", "/bench/ping", "/products", "/products/1"]


def environ_for(path: str, *, method: str = "GET", body: bytes = b"", **headers: str) -> dict:
    """A WSGI environ of one request to ``path`` (with its query), as gunicorn builds it; ``headers`` as HTTP_*."""
    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "application/json",
        "HTTP_USER_AGENT": "bench-floor",
        **headers,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _start_response(status, headers, exc_info=None):
    if not status.startswith("2"):
        raise RuntimeError(f"status {status}")


def call(app, path: str) -> None:
    response = app(environ_for(path), _start_response)
    for _ in response:
        pass
    response.close()


def cost_us(app, path: str, requests: int) -> float:
    """CPU microseconds of this process per request: what the worker spends, not what it waits for."""
    started = time.process_time()
    for _ in range(requests):
        call(app, path)
    return (time.process_time() - started) / requests * 1e6


def best_costs(apps: dict, paths: list[str], requests: int, rounds: int) -> dict:
    """Microseconds per request for each (variant, path), the best of interleaved rounds."""
    best: dict = {}
    for app in apps.values():
        for path in paths:
            call(app, path)  # first-use costs (URL resolver, connections) are not measured
    for _ in range(rounds):
        for name, app in apps.items():
            for path in paths:
                key = (name, path)
                best[key] = min(best.get(key, float("inf")), cost_us(app, path, requests))
    return best


# Middleware that cannot run without another one goes with it.
NEEDS = {
    "django.contrib.sessions.middleware.SessionMiddleware": (
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    )
}


def handler_without(middleware: str | None):
    """A WSGI handler of the project's stack, less one middleware and those that need it (None: the whole stack)."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    removed = {middleware, *NEEDS.get(middleware, ())}
    stack = [m for m in settings.MIDDLEWARE if m not in removed]
    with override_settings(MIDDLEWARE=stack):
        handler = WSGIHandler()
    return handler


def count_instructions(paths: list[str], requests: int) -> int:
    """Instructions per request of each endpoint: callgrind's total for ``requests`` and ``2 * requests`` requests
    in fresh processes (start-up and warm-up cancel out in the difference). Slow (about a minute a run)."""
    import re
    import subprocess

    def total(path: str, count: int) -> int:
        valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        run = subprocess.run(  # noqa: S603 - a benchmark tool running this module under valgrind
            [*valgrind, sys.executable, "-m", "bench.floor", "--loop", path, "--requests", str(count)],
            env={**os.environ, "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            check=True,
        )
        return int(re.search(r"Collected : (\d+)", run.stderr).group(1))

    counts = {path: (total(path, 2 * requests) - total(path, requests)) // requests for path in paths}
    floor = counts.get("/bench/django-ping")
    print("| endpoint (full stack, in-process) | instructions/request | vs plain Django view |\n|---|---:|---:|")
    for path, count in counts.items():
        print(f"| `GET {path}` | {count:,} | {f'{count / floor:.3f}x' if floor else ''} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round and endpoint")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--breakdown", action="store_true", help="also measure the stack less each middleware")
    parser.add_argument("--profile", metavar="PATH", help="print a pyinstrument profile of this endpoint")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per request under valgrind's callgrind instead of timing (load-independent)",
    )
    parser.add_argument("--loop", metavar="PATH", help=argparse.SUPPRESS)  # one endpoint --requests times (callgrind)
    args = parser.parse_args(argv)
    if args.instructions:
        return count_instructions(args.paths.split(","), args.requests)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce.settings")
    os.environ.setdefault("BENCHMARK_ENDPOINTS", "1")
    import django

    django.setup()
    from django.conf import settings

    if args.loop:
        app = handler_without(None)
        for _ in range(100 + args.requests):  # 100 unmeasured first: the difference of two runs cancels them
            call(app, args.loop)
        return 0
    paths = args.paths.split(",")
    apps = {"full stack": handler_without(None)}
    results = best_costs(apps, paths, args.requests, args.rounds)
    floor = results[("full stack", "/bench/django-ping")] if "/bench/django-ping" in paths else None
    print("| endpoint (full stack, in-process) | us/request | vs plain Django view |\n|---|---:|---:|")
    for path in paths:
        cost = results[("full stack", path)]
        ratio = f"{cost / floor:.2f}x" if floor else ""
        print(f"| `GET {path}` | {cost:.0f} | {ratio} |")

    if args.breakdown:
        ping_paths = ["/bench/django-ping", "/bench/ping"]
        variants = {"full stack": apps["full stack"]}
        for middleware in settings.MIDDLEWARE:
            also = "".join(f" + {m.rsplit('.', 1)[-1]}" for m in NEEDS.get(middleware, ()))
            variants[f"less {middleware.rsplit('.', 1)[-1]}{also}"] = handler_without(middleware)
        costs = best_costs(variants, ping_paths, args.requests, args.rounds)
        request_log = logging.getLogger("ecommerce.request")
        request_log.disabled = True
        costs.update(best_costs({"request log off": apps["full stack"]}, ping_paths, args.requests, args.rounds))
        request_log.disabled = False
        print("\n| variant | plain Django view us | DRF ping us | DRF / plain |\n|---|---:|---:|---:|")
        for name in [*variants, "request log off"]:
            plain, drf = costs[(name, "/bench/django-ping")], costs[(name, "/bench/ping")]
            print(f"| {name} | {plain:.0f} | {drf:.0f} | {drf / plain:.2f}x |")

    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001)
        app = apps["full stack"]
        with profiler:
            for _ in range(args.requests * args.rounds):
                call(app, args.profile)
        print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
