"""Finding 1 (dummy gateway in production) and 16 (short JWT keys): the server refuses to start, and
``check --deploy`` names both."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from tests.e2e.harness import _free_port

ROOT = Path(__file__).resolve().parents[2]
LONG_KEY = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"


def _production_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ecommerce.settings",
        "DEBUG": "false",
        "SECRET_KEY": LONG_KEY,
        "PAYMENT_GATEWAY": "",
        "STRIPE_SECRET_KEY": "",
        "ALLOW_DUMMY_GATEWAY": "false",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    env.pop("PAYMENT_GATEWAY")
    env.pop("JWT_SIGNING_KEY", None)
    env.update(overrides)
    return env


def _start_gunicorn(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Start gunicorn; it exits when its worker cannot load the application (or is stopped after 20 s)."""
    bind = f"127.0.0.1:{_free_port()}"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    try:
        return subprocess.run(
            [str(gunicorn), "ecommerce.wsgi", "--bind", bind, "--workers", "1"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired as running:
        return subprocess.CompletedProcess(running.cmd, returncode=None, stdout="", stderr=str(running.stderr))


def test_gunicorn_refuses_to_start_with_the_dummy_gateway_in_production():
    done = _start_gunicorn(_production_env())
    assert done.returncode not in (None, 0)
    assert "ALLOW_DUMMY_GATEWAY=true" in done.stderr


def test_gunicorn_refuses_to_start_with_a_short_jwt_key_in_production():
    done = _start_gunicorn(_production_env(ALLOW_DUMMY_GATEWAY="true", JWT_SIGNING_KEY="abc"))
    assert done.returncode not in (None, 0)
    assert "JWT_SIGNING_KEY" in done.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"ALLOW_DUMMY_GATEWAY": "true"},  # a demo, explicitly
        {"PAYMENT_GATEWAY": "stripe", "STRIPE_SECRET_KEY": "sk_test_placeholder"},  # a shop
    ],
)
def test_the_application_loads_when_the_gateway_is_real_or_the_dummy_is_allowed(env):
    done = subprocess.run(
        [sys.executable, "-c", "import ecommerce.wsgi"], cwd=ROOT, env=_production_env(**env), capture_output=True
    )
    assert done.returncode == 0, done.stderr


def _deploy_warnings() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True)}


def test_check_deploy_flags_the_dummy_gateway(settings):
    settings.PAYMENT_GATEWAY = "dummy"
    assert "ecommerce.W001" in _deploy_warnings()
    settings.PAYMENT_GATEWAY = "stripe"
    assert "ecommerce.W001" not in _deploy_warnings()


@pytest.mark.parametrize("key, flagged", [("abc", True), ("a" * 60, True), (LONG_KEY, False)])
def test_check_deploy_flags_a_short_or_repetitive_jwt_signing_key(settings, key, flagged):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": key}
    assert ("ecommerce.W002" in _deploy_warnings()) is flagged
