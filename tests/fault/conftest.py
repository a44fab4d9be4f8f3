"""The fault suite runs only when asked (``make fault``, ``.ci/run``), and only where it can own its servers."""

import os

import pytest

from tests.fault.servers import postgres_bin_dir, redis_server_binary


def pytest_collection_modifyitems(config, items):
    reason = None
    if os.environ.get("RUN_FAULT_SUITE") != "1":
        reason = (
            "fault suite: starts its own PostgreSQL, Redis and gunicorn and breaks them for ~2 minutes; "
            "run it with `make fault` (RUN_FAULT_SUITE=1), as .ci/run does"
        )
    elif postgres_bin_dir() is None:
        reason = "fault suite: needs initdb and pg_ctl under /usr/lib/postgresql/*/bin"
    elif redis_server_binary() is None:
        reason = "fault suite: needs redis-server on PATH"
    if reason is None:
        return
    if os.environ.get("REQUIRE_FAULT_SUITE") == "1" and os.environ.get("RUN_FAULT_SUITE") == "1":
        raise pytest.UsageError(reason)  # CI asked for the suite: a missing server binary is a failure
    for item in items:
        if "fault" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
