"""Browser tests: Playwright driving Debian's Chromium against gunicorn, served by the e2e harness.

Skipped, with the reason, where Chromium or Playwright is missing (``make test`` on a laptop); with
``REQUIRE_BROWSER=1`` (set by ``.ci/run``) a missing browser fails the run instead.
"""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.conftest import e2e_server  # noqa: F401 (the harness's fixture, reused: a server of our own)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
README_SCREENSHOTS = ROOT / "docs" / "screenshots"
# The screenshots the README shows; UPDATE_SCREENSHOTS=1 refreshes them.
README_SHOTS = {"product-list", "cart", "checkout", "paid-order", "admin-order", "admin-product-list"}
# The server speaks plain HTTP on 127.0.0.1, so its cookies must not be Secure-only.
PLAIN_HTTP = {"SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false", "SECURE_SSL_REDIRECT": "false"}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Skip (or, with REQUIRE_BROWSER=1, fail) before anything starts when the browser cannot run here."""
    reason = _missing()
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium(browser_available):
    """Chromium, launched once per module (the Playwright loop must not outlive the browser tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shop_server(browser_available, request):
    """gunicorn over a throwaway database with the demo catalogue, its cookies usable over plain HTTP."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in PLAIN_HTTP.items():
            env.setenv(name, value)
        server = request.getfixturevalue("e2e_server")  # reads the environment once, when it starts
    server.manage("load_demo_catalogue")
    return server


@contextmanager
def own_host_page(chromium, base_url: str, *, width: int, height: int, timeout: int):
    """A fresh browser profile on base_url; any request to another host fails the test (no CDN, no Stripe.js)."""
    context = chromium.new_context(base_url=base_url, viewport={"width": width, "height": height})
    context.set_default_timeout(timeout)
    elsewhere: list[str] = []

    def only_the_shop(route):
        if route.request.url.startswith(base_url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_shop)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert elsewhere == [], f"the pages asked other hosts for {elsewhere}"


@pytest.fixture
def page(chromium, shop_server):
    """A page on the shop at 1280 px, limited to the shop's own host."""
    with own_host_page(chromium, shop_server.url, width=1280, height=900, timeout=10_000) as page:
        yield page


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def screenshot(page, artifacts: Path, name: str) -> None:
    """Save a full-page screenshot as a test artefact; with UPDATE_SCREENSHOTS=1, also the README's copy."""
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" and name in README_SHOTS:
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SCREENSHOTS / path.name)
