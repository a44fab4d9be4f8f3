"""An operator's first deployment, done the usual Django way: a fresh database, ``migrate``, nothing else.

Runs in a subprocess with the production settings (database cache for throttling, no REDIS_URL) and a
SQLite file of its own, so nothing the test process set up can hide a missing step.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SIGN_UP_AND_LOG_IN = """
import json
from django.test import Client
client = Client()
body = {"name": "Olga Operator", "email": "olga@example.com", "password": "Str0ng-Passw0rd!"}
registered = client.post("/auth/register", body, content_type="application/json")
logged_in = client.post("/auth/login", {"email": body["email"], "password": body["password"]},
                        content_type="application/json")
print(json.dumps([registered.status_code, logged_in.status_code, sorted(logged_in.json())]))
"""


def test_register_and_log_in_after_a_plain_migrate(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "APP_DATABASES", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="ecommerce.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        SECRET_KEY="fresh-deployment-" + "x" * 40,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="testserver",
        PAYMENT_GATEWAY="dummy",
    )

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput")
    registered, logged_in, keys = json.loads(manage("shell", "-c", SIGN_UP_AND_LOG_IN).strip().splitlines()[-1])

    assert (registered, logged_in) == (202, 200)
    assert {"access", "refresh", "user"} <= set(keys)
