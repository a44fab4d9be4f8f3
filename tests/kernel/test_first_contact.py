"""What a newcomer meets first: a home page with links, and HTML paths that forgive a missing slash."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_home_page_links_the_shop_the_api_docs_the_admin_and_health(client):
    response = client.get("/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    links = set(re.findall(r'<a href="([^"]+)"', response.content.decode()))
    assert {"/shop/", "/api/docs", "/api/redoc", "/api/schema", "/admin/", "/health"} <= links
    for link in links - {"/admin/"}:  # the admin answers with its login page (a redirect) to anonymous users
        assert client.get(link).status_code == 200, link


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/admin", "/admin/"),
        ("/shop", "/shop/"),
        ("/shop/cart", "/shop/cart/"),
        ("/shop/products/1", "/shop/products/1/"),
    ],
)
def test_html_paths_without_the_slash_redirect(client, path, target):
    response = client.get(path)
    assert response.status_code == 301 and response["Location"] == target


@pytest.mark.parametrize("path", ["/products", "/products/", "/health", "/api/docs", "/api/docs/"])
def test_api_paths_answer_both_forms_themselves(anon_client, path):
    assert anon_client.get(path).status_code == 200


def test_api_writes_without_the_slash_are_not_redirected(customer_client, product):
    response = customer_client.post("/cart", {"productId": product.id, "quantity": 1}, format="json")
    assert response.status_code == 200


def test_unknown_paths_stay_404_in_the_envelope(anon_client):
    for path in ("/no/such/thing", "/products/abc", "/admi"):
        response = anon_client.get(path)
        assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found", path
