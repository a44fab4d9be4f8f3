import re

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_register_login_me_refresh_logout_over_http(e2e_server):
    url = e2e_server.url
    body = {"name": "Eve", "email": "eve@example.com", "password": "An0ther-Strong-One"}
    registered = requests.post(f"{url}/auth/register", json=body, timeout=10)
    assert registered.status_code == 202, registered.text
    assert registered.headers["X-Request-ID"]

    login = requests.post(
        f"{url}/auth/login/", json={"email": "EVE@example.com", "password": body["password"]}, timeout=10
    )
    assert login.status_code == 200
    tokens = login.json()
    auth = {"Authorization": f"Bearer {tokens['access']}"}

    me = requests.get(f"{url}/auth/me", headers=auth, timeout=10)
    assert me.status_code == 200
    assert me.json()["email"] == "eve@example.com"
    assert me.json()["isStaff"] is False

    refreshed = requests.post(f"{url}/auth/refresh", json={"refresh": tokens["refresh"]}, timeout=10)
    assert refreshed.status_code == 200
    new_refresh = refreshed.json()["refresh"]

    logout = requests.post(f"{url}/auth/logout", json={"refresh": new_refresh}, headers=auth, timeout=10)
    assert logout.status_code == 204
    refused = requests.post(f"{url}/auth/refresh", json={"refresh": new_refresh}, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "refresh_token_reused"  # a signed-out token back: a copy is about
    ended = requests.get(f"{url}/auth/me", headers=auth, timeout=10)
    assert (ended.status_code, ended.json()["errors"][0]["code"]) == (401, "token_revoked")


def test_docs_and_admin_pages_load_with_local_assets(e2e_server):
    url = e2e_server.url
    for page in ("/api/docs", "/api/redoc"):
        html = requests.get(f"{url}{page}", timeout=10)
        assert html.status_code == 200
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
        # Local files, or Swagger UI's own script (served from its page, not inline: the CSP forbids inline scripts)
        assert assets and all(asset.startswith(("/static/", f"{page}?script")) for asset in assets), assets
        for asset in assets:
            assert requests.get(f"{url}{asset}", timeout=10).status_code == 200, asset
    assert requests.get(f"{url}/api/schema", timeout=10).status_code == 200
    assert requests.get(f"{url}/admin/login/", timeout=10).status_code == 200
