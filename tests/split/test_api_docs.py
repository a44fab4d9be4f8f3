"""The gateway's /api describes the whole API, though the process behind it serves only some of the apps."""

import re

import pytest
import requests
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.e2e


def test_the_gateways_schema_is_the_whole_apis(e2e_server):
    response = requests.get(f"{e2e_server.url}/api/schema", headers={"Accept": "application/json"}, timeout=15)

    assert response.status_code == 200
    one_process = SchemaGenerator().get_schema(request=None, public=True)  # every app, as `make run` serves it
    assert response.json()["paths"].keys() == one_process["paths"].keys()
    assert {"/cart", "/order/checkout", "/payment", "/products", "/inventory/{productId}"} <= response.json()[
        "paths"
    ].keys()
    assert response.json()["components"] == one_process["components"]


def test_the_gateway_serves_the_docs_pages_and_their_assets(e2e_server):
    docs = requests.get(f"{e2e_server.url}/api/docs", timeout=15)
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text)
    assert assets and all(requests.get(f"{e2e_server.url}{asset}", timeout=15).status_code == 200 for asset in assets)
    script = requests.get(f"{e2e_server.url}/api/docs?script=", timeout=15)
    assert script.status_code == 200 and "/api/schema" in script.text
    assert requests.get(f"{e2e_server.url}/api/redoc", timeout=15).status_code == 200
