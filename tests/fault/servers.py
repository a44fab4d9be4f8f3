"""Servers the fault suite owns and breaks: a throwaway PostgreSQL cluster, a Redis and gunicorn.

Everything listens on 127.0.0.1 on ports of its own and lives in a temporary directory; the machine's
shared PostgreSQL and Redis are never touched. Each server is stopped and removed by its ``close()``.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def postgres_bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries installed (initdb, pg_ctl), or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0))
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, *, what: str, within: float = 30.0) -> float:
    """Poll ``check()`` until it is true; returns the seconds it took. Polls a server, not test state."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if check():
                return time.monotonic() - started
        except Exception:  # not up yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {within} s")


class PostgresCluster:
    """``initdb`` + ``pg_ctl`` in a temporary directory, trust auth on 127.0.0.1 only."""

    def __init__(self):
        bin_dir = postgres_bin_dir()
        assert bin_dir is not None
        self.bin_dir = bin_dir
        # A directory of its own under /tmp: pytest's are private to root, and the server may run as postgres.
        workdir = Path(tempfile.mkdtemp(prefix="fault-postgres-"))
        self.workdir = workdir
        self.data = workdir / "pgdata"
        self.socket_dir = workdir / "pgsocket"
        self.log = workdir / "postgres.log"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/shop"
        # initdb refuses to run as root: run the server as the postgres system user then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        for path in (self.data, self.socket_dir):
            path.mkdir(parents=True)
        self.log.touch()
        if self._as:
            shutil.chown(workdir, "postgres")
            for path in (self.data, self.socket_dir, self.log):
                shutil.chown(path, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "shop")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, str(self.bin_dir / tool), *args], check=True, capture_output=True, timeout=120)

    def _options(self) -> str:
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.socket_dir} "
            "-c fsync=off -c full_page_writes=off -c max_connections=100"
        )

    def is_ready(self) -> bool:
        done = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"], check=False
        )
        return done.returncode == 0

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(), "-w", "start")

    def restart(self) -> float:
        """Stop the server the hard way (every connection dropped, crash recovery on start), start it again.

        Returns the seconds the database was unreachable.
        """
        started = time.monotonic()
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        self.start()
        wait_for(self.is_ready, what="PostgreSQL")
        return time.monotonic() - started

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self._as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                check=False,
                capture_output=True,
            )
        shutil.rmtree(self.workdir, ignore_errors=True)


class RedisServer:
    """A ``redis-server`` on a port of its own, no persistence."""

    def __init__(self, workdir: Path):
        self.binary = redis_server_binary()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close() is None, what="Redis")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    close = stop


class Gunicorn:
    """The shop served by gunicorn against the throwaway database; its workers can be killed with -9."""

    def __init__(self, workdir: Path, env: dict, *, workers: int = 3):
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 (closed in close())
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "ecommerce.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            healthy = lambda: requests.get(f"{self.url}/health", timeout=5).status_code == 200  # noqa: E731
            wait_for(healthy, what="gunicorn", within=90)
        except RuntimeError:
            self.close()  # never leave a server behind
            raise

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def worker_pids(self) -> list[int]:
        pids = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # the parent pid: a worker of this master
                pids.append(int(Path(stat).parent.name))
        return sorted(pids)

    def kill_workers(self, count: int = 1) -> list[int]:
        """``kill -9`` the first ``count`` workers (the master starts new ones)."""
        victims = self.worker_pids()[:count]
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        return victims

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
