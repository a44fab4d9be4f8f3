"""The shop split into processes behind one nginx gateway, on one machine (``make run-split``, tests/split).

Three gunicorn processes, each serving some apps (``SERVE_APPS``) with only those apps' databases
(``APP_DATABASES``, plus the kernel's ``DATABASE_URL``) and calling the others' public functions over HTTP
(``REMOTE_APPS``, ``SERVICE_TOKEN``); a fourth for the staff admin, which reads every app's rows; and nginx
on the gateway port routing each URL prefix to its owner. On separate hosts, the same environment
variables with the hosts' addresses in place of 127.0.0.1 give the same topology (docs/architecture.md).
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from ecommerce.routers import APP_GROUPS, app_databases

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PUBLIC_APPS = ("accounts", "catalog", "inventory", "cart", "orders", "payments")


@dataclass(frozen=True)
class Service:
    name: str  # also the nginx upstream: <name>_process
    apps: tuple[str, ...]  # its SERVE_APPS
    # The staff admin lists and changes every app's rows, as the operator's commands do: its process runs every
    # app in process, with every database, and serves only /admin (no events of its own to consume).
    every_app: bool = False


SERVICES = (
    Service("catalog", ("accounts", "privacy", "catalog", "inventory", "storefront")),
    Service("orders", ("cart", "orders")),
    Service("payments", ("payments",)),
    Service("admin", ("admin",), every_app=True),
)
API_DOCS_SERVICE = "catalog"  # the gateway's default route, /api included


def service_environments(ports: dict[str, int], base_env: dict) -> dict[str, dict[str, str]]:
    """Per service: the SERVE_APPS and REMOTE_APPS that place each app in exactly one process (and SCHEMA_APPS),
    and the APP_DATABASES of its own apps among those ``base_env`` places (every one for the admin)."""
    owner = {app: service for service in SERVICES for app in service.apps}
    placed = app_databases(base_env.get("APP_DATABASES", ""))
    environments = {}
    for service in SERVICES:
        remote = [f"{app}=http://127.0.0.1:{ports[owner[app].name]}" for app in PUBLIC_APPS if owner[app] != service]
        own = [f"{app}={url}" for app, url in placed.items() if service.every_app or app in service.apps]
        environments[service.name] = {
            "SERVE_APPS": ",".join(service.apps),
            "REMOTE_APPS": "" if service.every_app else ",".join(remote),
            "APP_DATABASES": ",".join(own),
        }
    # nginx sends /api to this process (deploy/nginx.conf.template): its schema and docs describe every app.
    environments[API_DOCS_SERVICE]["SCHEMA_APPS"] = ",".join(owner)
    return environments


def render_gateway(*, gateway_port: int, ports: dict[str, int], run_dir: Path) -> Path:
    """deploy/nginx.conf.template filled in for these ports; returns the written config's path."""
    text = (ROOT / "deploy" / "nginx.conf.template").read_text()
    values = {"GATEWAY_PORT": gateway_port, "RUN_DIR": run_dir}
    values |= {f"{service.name.upper()}_PROCESS": f"127.0.0.1:{ports[service.name]}" for service in SERVICES}
    for name, value in values.items():
        text = text.replace(f"@{name}@", str(value))
    config = run_dir / "nginx.conf"
    config.write_text(text)
    return config


def wait_until_healthy(url: str, process: subprocess.Popen, deadline_s: float = 60) -> None:
    """Poll ``url``/health until it answers 200; RuntimeError if ``process`` exits or time runs out."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            if requests.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)  # polling a port that is still opening
    raise RuntimeError(f"{url} did not become healthy in time")


@contextmanager
def process(command: list[str], env: dict, log: Path, health_url: str | None = None) -> Iterator[subprocess.Popen]:
    """``command`` running (with output to ``log``), healthy on ``health_url`` if given, until the block ends.

    Then it is stopped: SIGTERM, and SIGKILL if it has not exited 15 s later.
    """
    with open(log, "a") as output:  # a group of its own: a crash is simulated by killing the group (Topology.kill)
        child = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, process_group=0
        )
    try:
        if health_url:
            wait_until_healthy(health_url, child)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class Topology:
    """The running split shop: ``urls`` (name -> URL, ``gateway`` too), logs in ``run_dir``; kill or start a service."""

    def __init__(self, stack: ExitStack, base_env: dict, ports: dict[str, int], run_dir: Path, workers: int):
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        self.run_dir = run_dir
        self._stack, self._base_env, self._ports, self._workers = stack, base_env, ports, workers
        self._environments = service_environments(ports, base_env)
        self._servers: dict[str, subprocess.Popen] = {}

    def start(self, name: str, **env: str) -> None:
        """Start the gunicorn of service ``name`` (``env`` adds to its environment) and wait until it is healthy.

        It stops when the topology does.
        """
        command = [str(BIN / "gunicorn"), "ecommerce.wsgi", "--bind", f"127.0.0.1:{self._ports[name]}"]
        # Threads: a call may come back to the process it came from (a refund: orders -> payments -> orders).
        command += ["--workers", str(self._workers), "--threads", "4", "--log-level", "warning"]
        env = {**self._base_env, **self._environments[name], **env}
        log = self.run_dir / f"{name}.log"
        self._servers[name] = self._stack.enter_context(process(command, env, log, self.urls[name]))

    def kill(self, name: str) -> None:
        """Kill service ``name``'s gunicorn, master and workers, with SIGKILL: a crash, requests in flight lost."""
        server = self._servers.pop(name)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


@contextmanager
def running(
    base_env: dict, *, gateway_port: int, ports: dict[str, int], run_dir: Path, workers: int = 2
) -> Iterator[Topology]:
    """The processes and the gateway, until the block ends.

    With ``EVENT_BROKER_URL``, also an event consumer per app process and a relay publishing to the broker.

    ``base_env`` is what every process shares (DATABASE_URL, SECRET_KEY, SERVICE_TOKEN...), with every app's
    database in its APP_DATABASES (each process gets its own apps' ones); they are migrated beforehand by the caller.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        topology = Topology(stack, base_env, ports, run_dir, workers)
        for service in SERVICES:
            name, env = service.name, topology._environments[service.name]
            topology.start(name)
            # Each app process applies its own apps' events from the broker.
            if base_env.get("EVENT_BROKER_URL") and not service.every_app:
                consumer = [sys.executable, "manage.py", "consume_events"]
                stack.enter_context(process(consumer, {**base_env, **env}, run_dir / f"{name}-events.log"))
        if base_env.get("EVENT_BROKER_URL"):  # what in-process delivery left pending goes to the broker
            relay = [sys.executable, "manage.py", "relay_events", "--every", "5", "--older-than", "5"]
            stack.enter_context(process(relay, base_env, run_dir / "relay.log"))
        config = render_gateway(gateway_port=gateway_port, ports=ports, run_dir=run_dir)
        nginx = ["nginx", "-p", str(run_dir), "-c", str(config), "-g", "daemon off;"]
        topology.urls["gateway"] = f"http://127.0.0.1:{gateway_port}"
        stack.enter_context(process(nginx, base_env, run_dir / "nginx.log", topology.urls["gateway"]))
        yield topology


def per_app_databases(database_url: str) -> str:
    """The APP_DATABASES that puts every app on a database of its own beside ``database_url``: ``<name>_<app>`` on
    the same PostgreSQL server (created if missing), or ``<file>_<app>.sqlite3`` beside a SQLite file."""
    import dj_database_url
    import psycopg

    params = dj_database_url.parse(database_url)
    if params["ENGINE"] == "django.db.backends.sqlite3":
        stem = Path(params["NAME"]).with_suffix("")
        return f"*=sqlite:///{stem}_{{app}}.sqlite3"
    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as server:
        existing = {name for (name,) in server.execute("SELECT datname FROM pg_database")}
        for app in APP_GROUPS:
            if f"{params['NAME']}_{app}" not in existing:
                server.execute(f'CREATE DATABASE "{params["NAME"]}_{app}"')
    return f"*={database_url.rsplit('/', 1)[0]}/{params['NAME']}_{{app}}"


def main() -> None:
    """``make run-split``: the topology on this machine until Ctrl-C (ports from GATEWAY_PORT, SPLIT_PORTS)."""
    gateway_port = int(os.environ.get("GATEWAY_PORT", "8000"))
    first = int(os.environ.get("SPLIT_FIRST_PORT", "8101"))
    ports = {service.name: first + index for index, service in enumerate(SERVICES)}
    run_dir = ROOT / ".run-split"
    environments = service_environments(ports, os.environ)
    with running(dict(os.environ), gateway_port=gateway_port, ports=ports, run_dir=run_dir) as topology:
        urls = topology.urls
        print(f"gateway   {urls['gateway']}  (nginx, {run_dir / 'nginx.conf'})")
        for service in SERVICES:
            env = environments[service.name]
            databases = ",".join(app_databases(env["APP_DATABASES"])) or "none of its own"
            print(f"{service.name:<9} {urls[service.name]}  SERVE_APPS={env['SERVE_APPS']}  databases: {databases}")
        if os.environ.get("EVENT_BROKER_URL"):
            print(f"events    relay_events every 5 s and a consume_events per process, via {_redacted(os.environ)}")
        print(f"logs in {run_dir}; Ctrl-C stops everything.", flush=True)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            print("stopping...", flush=True)
    print("stopped.")


def _redacted(env) -> str:
    url = env["EVENT_BROKER_URL"]
    return url.split("@", 1)[-1] if "@" in url else url


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    if sys.argv[1:] == ["--databases"]:  # `make run-split`: print (and create) a database per app beside DATABASE_URL
        from dotenv import load_dotenv

        load_dotenv(ROOT / ".env")
        print(per_app_databases(os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'db.sqlite3'}")))
    else:
        main()
