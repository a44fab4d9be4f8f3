"""The split suite: the shop as separate processes behind nginx (deploy/topology.py), run when asked.

``make test-split`` (RUN_SPLIT_SUITE=1) and .ci/run run it; it needs nginx on PATH.
"""

import os
import shutil

import pytest

from tests.e2e.harness import running_split


def pytest_collection_modifyitems(config, items):
    reason = None
    if os.environ.get("RUN_SPLIT_SUITE") != "1":
        reason = "split suite: starts three gunicorn processes and nginx; run it with `make test-split`"
    elif not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        reason = "split suite: three processes writing at once need PostgreSQL (set DATABASE_URL)"
    elif shutil.which("nginx") is None:
        reason = "split suite: needs nginx on PATH (apt-get install nginx)"
    if reason is None:
        return
    if os.environ.get("RUN_SPLIT_SUITE") == "1" and os.environ.get("CI"):
        raise pytest.UsageError(reason)  # CI asked for the suite: a missing nginx is a failure
    for item in items:
        if item.path.is_relative_to(os.path.dirname(__file__)):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory):
    """The gateway of the split shop: the e2e tests run against it as against one process."""
    with running_split(tmp_path_factory) as gateway:
        yield gateway
