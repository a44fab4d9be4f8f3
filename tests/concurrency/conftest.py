"""Helpers for racing real threads against the database (PostgreSQL, or SQLite in WAL mode)."""

import threading
from collections.abc import Callable

from django.db import connections


def race(workers: int, action: Callable[[int], object]) -> list:
    """Run ``action(i)`` in ``workers`` threads released at the same moment; return results or exceptions."""
    barrier = threading.Barrier(workers)
    results: list = [None] * workers

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = action(i)
        except Exception as exc:  # collected for the test to inspect
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
