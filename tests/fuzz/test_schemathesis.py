"""Property-based fuzzing of every documented operation, over HTTP against gunicorn.

Runs the schemathesis CLI (its pytest plugin does not support pytest 9 yet) as a customer and as staff, with
every check schemathesis has: no 5xx; status codes, content types, headers and bodies as the schema says; data
the schema calls valid is accepted and data it calls invalid refused (400); unsupported methods (405), missing
required headers, ignored authentication, use after delete, resources available after creation, other users'
objects. The examples, coverage, fuzzing and stateful phases all run.

Exclusions (schemathesis.toml beside this file, one check for named operations, each with its reason):
- positive_data_acceptance for POST /auth/register (password rules, a taken email), POST /payment/webhook (only
  Stripe signs events), POST /products and PATCH /products/{id} (a SKU is unique), DELETE /auth/me and
  POST /auth/me/password (the current password), POST /auth/verify-email and POST /auth/password-reset/confirm
  (an emailed link's signed token), POST /products/{id}/images (a file's bytes must be a picture): rules no
  schema states;
- negative_data_rejection for POST /products/{id}/images: a multipart body carries every value as text (a generated
  null for `alt` is the valid text "null"; an empty `position` is an absent one);
- use_after_free for GET and PATCH /products/{id}: DELETE withdraws a product, which staff still see (documented);
- for POST /order/checkout and POST /payment, positive_data_acceptance also expects 422: a generated
  Idempotency-Key reused with another body is `idempotency_key_reused`.

Bounded: FUZZ_MAX_EXAMPLES per operation and phase, and a FUZZ_MAX_SECONDS budget per role.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "15")
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="session")
def bearer(e2e_server):
    """Authorization headers of a customer and a staff user of the server under test."""
    url, password = e2e_server.url, "Fuzz-Passw0rd-" + uuid.uuid4().hex
    customer = {"name": "Fuzz", "email": f"fuzz-{uuid.uuid4().hex[:8]}@example.com", "password": password}
    requests.post(f"{url}/auth/register", json=customer, timeout=10).raise_for_status()
    staff_email = f"fuzz-staff-{uuid.uuid4().hex[:8]}@example.com"
    e2e_server.manage(
        "createsuperuser",
        "--noinput",
        env={
            "DJANGO_SUPERUSER_EMAIL": staff_email,
            "DJANGO_SUPERUSER_PASSWORD": password,
            "DJANGO_SUPERUSER_NAME": "S",
        },
    )
    e2e_server.manage("load_demo_catalogue")

    def login(email):
        response = requests.post(f"{url}/auth/login", json={"email": email, "password": password}, timeout=10)
        response.raise_for_status()
        return f"Authorization: Bearer {response.json()['access']}"

    return {"customer": login(customer["email"]), "staff": login(staff_email)}


@pytest.mark.parametrize("role", ["customer", "staff"])
def test_no_server_errors_and_responses_match_the_schema(e2e_server, bearer, role, tmp_path):
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{e2e_server.url}/api/schema",
        "--header",
        bearer[role],
        "--max-examples",
        MAX_EXAMPLES,
        "--generation-deterministic",
        "--max-time",
        os.environ.get("FUZZ_MAX_SECONDS", "120"),
        "--request-timeout",
        "10",
        "--workers",
        "1",
        "--no-color",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    report = os.environ.get("FUZZ_REPORT")
    if report:
        Path(f"{report}.{role}.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-15000:] + done.stderr[-3000:]
