"""The e2e harness: a throwaway database (one per app with APP_DATABASES), migrated, and gunicorn serving it.

Nothing here shares the test process's database: the server is a separate process, as in production,
and tests talk to it only over HTTP (``e2e_server.url``).
"""

import email
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import dj_database_url
import psycopg
import pytest

from deploy import topology
from ecommerce.routers import APP_GROUPS, app_databases

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class Server:
    url: str
    env: dict
    split: topology.Topology | None = None  # the processes behind the gateway (running_split)

    def manage(self, *args: str, env: dict | None = None) -> str:
        """Run a management command against the server's database (``env`` adds variables); its output.

        A command that fails fails the test with its output and errors."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            pytest.fail(f"manage.py {' '.join(args)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def emails_to(self, address: str) -> list[Message]:
        """The emails the server sent to ``address``, oldest first (the file backend writes a file per connection)."""
        files = sorted(Path(self.env["EMAIL_FILE_PATH"]).iterdir(), key=lambda path: path.stat().st_mtime_ns)
        texts = [text for path in files for text in path.read_text().split("\n" + "-" * 79 + "\n") if text.strip()]
        return [message for message in map(email.message_from_string, texts) if message["To"] == address]


def text_of(message: Message) -> str:
    """The plain-text body of an email."""
    part = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _throwaway_database(tmp_path_factory, *, per_app: bool = False):
    """Database URLs of its own: ``(DATABASE_URL, APP_DATABASES, drop)``.

    On PostgreSQL, a new database ``e2e_<id>``, and one more per app that APP_DATABASES places (every app
    with ``per_app``), ``e2e_<id>_<app>`` on that app's server; ``drop`` drops them all. Else a SQLite file
    (drop is None).
    """
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgres"):
        return f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'db.sqlite3'}", "", None
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    placed = app_databases(os.environ.get("APP_DATABASES", ""))
    if per_app:
        placed = {group: configured for group in APP_GROUPS} | placed
    urls = {"default": configured} | placed
    names = {alias: name if alias == "default" else f"{name}_{alias}" for alias in urls}
    created = []

    def drop():
        for url, database in created:
            with _server_of(url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    try:
        for alias, url in urls.items():
            with _server_of(url) as admin:
                admin.execute(f'CREATE DATABASE "{names[alias]}"')
            created.append((url, names[alias]))
    except BaseException:
        drop()
        raise
    moved = {alias: url.rsplit("/", 1)[0] + f"/{names[alias]}" for alias, url in urls.items()}
    value = ",".join(f"{alias}={url}" for alias, url in moved.items() if alias != "default")
    return moved["default"], value, drop


def _server_of(url: str) -> psycopg.Connection:
    """An autocommit connection to the maintenance database of the PostgreSQL server of ``url``."""
    params = dj_database_url.parse(url)
    return psycopg.connect(
        host=params["HOST"], port=params["PORT"] or 5432, user=params["USER"], dbname="postgres", autocommit=True
    )


def _environment(tmp_path_factory, database_url: str, app_databases_value: str, env_overrides: dict) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ecommerce.settings",
        "DATABASE_URL": database_url,
        "APP_DATABASES": app_databases_value,
        "SECRET_KEY": "e2e-" + uuid.uuid4().hex * 2,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "PAYMENT_GATEWAY": "dummy",
        "ALLOW_DUMMY_GATEWAY": "true",
        "AUTH_THROTTLE_RATE": "1000/min",
        "STATIC_ROOT": str(tmp_path_factory.mktemp("static")),  # its own copy: servers never share one
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),  # uploads (product pictures) of this server only
        # Emails land as files the tests read (one file per sending connection).
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path_factory.mktemp("mail")),
        **env_overrides,
    }


@contextmanager
def _migrated_database(tmp_path_factory, env_overrides: dict, *, per_app: bool = False) -> Iterator[Server]:
    """A new database, migrated, with static files collected; a Server without a URL yet (its environment).

    When the block ends, no cross-app invariant may be left broken (check_consistency exits 1 if one is).
    """
    database_url, placed, drop_database = _throwaway_database(tmp_path_factory, per_app=per_app)
    server = Server(url="", env=_environment(tmp_path_factory, database_url, placed, env_overrides))
    try:
        server.manage("migrate", "--noinput")
        server.manage("collectstatic", "--noinput")
        yield server
        server.manage("check_consistency")
    finally:
        if drop_database:
            drop_database()


@contextmanager
def running_server(tmp_path_factory, **env_overrides: str) -> Iterator[Server]:
    """gunicorn over a new, migrated database, until the block ends (``env_overrides`` add to its environment)."""
    with _migrated_database(tmp_path_factory, env_overrides) as server:
        server.url = f"http://127.0.0.1:{_free_port()}"
        command = [
            str(BIN / "gunicorn"),
            "ecommerce.wsgi",
            "--bind",
            server.url.removeprefix("http://"),
            "--workers",
            "2",
        ]
        log = tmp_path_factory.mktemp("e2e-log") / "gunicorn.log"
        with topology.process(command, server.env, log, health_url=server.url):
            yield server


@contextmanager
def running_split(tmp_path_factory, **env_overrides: str) -> Iterator[Server]:
    """The shop split into processes behind nginx (deploy/topology.py) over new, migrated databases, one per app
    (each process is given only its own apps' ones).

    The Server's URL is the gateway's; ``manage`` runs commands as an operator would (every app in process, every
    database: ``check_consistency`` at the end reads them all).
    """
    env_overrides = {"SERVICE_TOKEN": "e2e-service-" + uuid.uuid4().hex, **env_overrides}
    with _migrated_database(tmp_path_factory, env_overrides, per_app=True) as server:
        ports = {service.name: _free_port() for service in topology.SERVICES}
        run_dir = tmp_path_factory.mktemp("split")
        with topology.running(server.env, gateway_port=_free_port(), ports=ports, run_dir=run_dir) as split:
            server.url, server.split = split.urls["gateway"], split
            yield server


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory):
    with running_server(tmp_path_factory) as server:
        yield server
