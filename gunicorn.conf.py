"""Gunicorn settings, read from the working directory by every launch (`make run`, e2e tests, benchmark)."""

import os

# Room for the longest query string the API accepts (search and category, percent-encoded UTF-8).
limit_request_line = 8190


def when_ready(server) -> None:
    """Once the server listens, say where to go (and, from `make run`, the staff login it just created)."""
    base = "http://{}:{}".format(*server.cfg.address[0][:2]) if isinstance(server.cfg.address[0], tuple) else ""
    lines = [
        f"The shop is running at {base}/",
        f"  shop         {base}/shop/",
        f"  API docs     {base}/api/docs  (ReDoc: {base}/api/redoc, schema: {base}/api/schema)",
        f"  admin        {base}/admin/",
        f"  health       {base}/health",
    ]
    staff_login = os.environ.pop("DEMO_STAFF_LOGIN", "")  # not handed down to the workers
    if staff_login:
        lines.append(f"  staff login  {staff_login}")
    print("\n".join(lines), flush=True)
