"""Swagger UI in Chromium: "Try it out" with each write operation's own example, on a shop with the demo data.

The server is fresh (the examples name product 1 and order 1, as on a new `make run`), has the demo
catalogue and the demo staff user, and its docs load nothing from other hosts.
"""

import pytest
import requests

from tests.browser.conftest import PLAIN_HTTP, own_host_page
from tests.e2e.harness import running_server, text_of
from tests.emails import token_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser_available fixture skips these tests (or fails them, with REQUIRE_BROWSER=1)
    Page = expect = None

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

STAFF = {"email": "staff@example.com", "password": "Demo-Staff-Passw0rd"}


@pytest.fixture(scope="module")
def demo_server(browser_available, tmp_path_factory):
    """What `make run` serves: a new database, the demo staff user and the demo catalogue."""
    env = {
        **PLAIN_HTTP,
        "ALLOW_DEMO_STAFF": "true",
        "DEMO_STAFF_EMAIL": STAFF["email"],
        "DEMO_STAFF_PASSWORD": STAFF["password"],
    }
    with running_server(tmp_path_factory, **env) as server:
        server.manage("ensure_demo_staff")
        server.manage("load_demo_catalogue")
        yield server


@pytest.fixture
def docs(demo_server, chromium):
    with own_host_page(chromium, demo_server.url, width=1400, height=1000, timeout=15_000) as page:
        page.goto("/api/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("E-commerce API", timeout=30_000)
        yield page


def try_it_out(page: Page, tag: str, operation_id: str, path_params: dict | None = None):
    """Open an operation, press "Try it out" and "Execute" with its first example; returns the HTTP response."""
    operation = page.locator(f"#operations-{tag}-{operation_id}")
    if not operation.locator(".opblock-body").is_visible():
        operation.locator(".opblock-summary").first.click()
    # Swagger UI renders the body after the click: wait for its "Try it out" / "Cancel" toggle.
    toggle = operation.locator(".try-out button")
    expect(toggle).to_be_visible()
    if toggle.inner_text().strip() == "Try it out":
        toggle.click()
    expect(operation.get_by_role("button", name="Execute")).to_be_visible()
    for name, value in (path_params or {}).items():
        field = operation.locator(f'tr[data-param-name="{name}"] input')
        if field.input_value() != str(value):
            field.fill(str(value))
    method = operation.locator(".opblock-summary-method").first.inner_text().upper()
    with page.expect_response(lambda r: r.request.method == method and "/api/" not in r.url) as answer:
        operation.get_by_role("button", name="Execute").click()
    return answer.value


def authorize(page: Page, token: str) -> None:
    """Use "Authorize" with a bearer token, replacing the one given before (if any)."""
    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".dialog-ux")
    logout = dialog.get_by_role("button", name="Remove authorization")
    if logout.count():
        logout.first.click()
    dialog.locator("input").first.fill(token)
    dialog.get_by_role("button", name="Apply credentials").click()
    dialog.locator("button.btn-done").click()


def test_every_write_example_succeeds_from_swagger_ui(docs: Page, demo_server):
    page = docs
    register = try_it_out(page, "auth", "auth_register")
    assert register.status == 202, register.text()
    # Ada follows the link the server emailed her, so that she may pay.
    token = token_in(text_of(demo_server.emails_to("ada@example.com")[-1]))
    assert requests.post(f"{demo_server.url}/auth/verify-email", json={"token": token}, timeout=10).ok
    login = try_it_out(page, "auth", "auth_login")
    assert login.status == 200, login.text()
    authorize(page, login.json()["access"])

    for tag, operation_id, params, status in [
        ("cart", "cart_add", {}, 200),
        ("cart", "cart_line_update", {"productId": 1}, 200),
        ("order", "order_checkout", {}, 201),
        ("payment", "payment_create", {}, 201),
    ]:
        response = try_it_out(page, tag, operation_id, params)
        assert response.status == status, (operation_id, response.status, response.text())
    assert response.json()["order"]["status"] == "paid"

    # The authorization survives a reload (persistAuthorization).
    page.reload()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("E-commerce API", timeout=30_000)
    me = try_it_out(page, "auth", "auth_me")
    assert (me.status, me.json()["email"]) == (200, "ada@example.com")

    staff = requests.post(f"{demo_server.url}/auth/login", json=STAFF, timeout=10)
    authorize(page, staff.json()["access"])
    for tag, operation_id, params, status in [
        ("products", "products_create", {}, 201),
        ("products", "products_partial_update", {"id": 1}, 200),
        ("inventory", "inventory_update", {"productId": 1}, 200),
        ("order", "order_status_update", {"id": 1}, 200),
    ]:
        response = try_it_out(page, tag, operation_id, params)
        assert response.status == status, (operation_id, response.status, response.text())
    assert response.json()["status"] == "shipped"
    shown = page.locator(
        "#operations-order-order_status_update .live-responses-table td.response-col_status:not(.col_header)"
    )
    expect(shown).to_have_text("200")
