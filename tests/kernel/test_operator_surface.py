import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/health", "/health/"])
def test_health(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_request_id_is_echoed_or_made_up(anon_client):
    assert anon_client.get("/health", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    made_up = anon_client.get("/health", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made_up)


def test_one_log_line_per_request(anon_client, caplog):
    with caplog.at_level("INFO", logger="ecommerce.request"):
        anon_client.get("/health", HTTP_X_REQUEST_ID="req-1")
    lines = [r.getMessage() for r in caplog.records if r.name == "ecommerce.request"]
    assert len(lines) == 1
    assert re.fullmatch(r"GET /health 200 \d+\.\dms request_id=req-1", lines[0])


def test_unknown_path_is_404_in_the_envelope(anon_client):
    response = anon_client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_schema_is_openapi_with_bearer_auth(anon_client):
    response = anon_client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/auth/register" in schema["paths"]
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())


def test_schema_validates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.parametrize("path", ["/api/docs", "/api/docs/", "/api/redoc"])
def test_docs_pages_reference_only_local_assets(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls, "the page loads its assets from somewhere"
    assert all(url.startswith("/") for url in urls), urls
    assert "cdn" not in html.lower()


def test_admin_login_page_loads(client):
    assert client.get("/admin/login/").status_code == 200
