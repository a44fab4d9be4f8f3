"""Product pictures over real HTTP: staff upload one in the admin of a gunicorn server (DEBUG off), clients see its
URLs on the product list and detail, and the server serves the files."""

import io
import re
import uuid

import pytest
import requests
from PIL import Image

from tests.e2e.test_purchase_flow import PASSWORD, Client

pytestmark = pytest.mark.e2e


class AdminBrowser:
    """A staff member's browser on the admin: session and CSRF cookies kept by hand (they are Secure, and this
    server speaks plain HTTP on 127.0.0.1)."""

    def __init__(self, base_url: str):
        self.base_url, self.cookies = base_url, {}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        response = requests.request(
            method, f"{self.base_url}{path}", cookies=self.cookies, allow_redirects=False, timeout=30, **kwargs
        )
        self.cookies.update(response.cookies.get_dict())
        return response

    def csrf_token(self, path: str) -> str:
        page = self.request("GET", path)
        assert page.status_code == 200, (path, page.status_code)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def log_in(self, email: str) -> None:
        token = self.csrf_token("/admin/login/")
        response = self.request(
            "POST", "/admin/login/", data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302, response.text

    def add_product(self, name: str, picture: tuple[str, bytes, str]) -> requests.Response:
        fields = {
            "csrfmiddlewaretoken": self.csrf_token("/admin/catalog/product/add/"),
            "name": name,
            "price": "12.00",
            "stock": "3",
            "initial-stock": "0",
            "pictures-TOTAL_FORMS": "1",
            "pictures-INITIAL_FORMS": "0",
            "pictures-0-alt_text": f"{name}, from the front",
            "_save": "Save",
        }
        return self.request("POST", "/admin/catalog/product/add/", data=fields, files={"pictures-0-upload": picture})


def jpeg(size=(1600, 1200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "orange").save(out, "JPEG")
    return out.getvalue()


def test_a_picture_uploaded_in_the_admin_is_on_the_list_and_detail_and_served(e2e_server):
    email = f"pictures-{uuid.uuid4().hex[:6]}@example.com"
    e2e_server.manage(
        "createsuperuser",
        "--noinput",
        env={"DJANGO_SUPERUSER_EMAIL": email, "DJANGO_SUPERUSER_PASSWORD": PASSWORD, "DJANGO_SUPERUSER_NAME": "Pix"},
    )
    admin = AdminBrowser(e2e_server.url)
    admin.log_in(email)
    tag = uuid.uuid4().hex[:6]
    shopper = Client(e2e_server.url)

    # hostile uploads: the form again with a message, never a 500, and no product
    for name, data in [("fake.jpg", b"<html>not a picture</html>"), ("bomb.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)]:
        refused = admin.add_product(f"Refused {tag}", (name, data, "image/jpeg"))
        assert refused.status_code == 200 and "not a JPEG, PNG or WebP" in refused.text
    assert shopper.ok("GET", f"/products?search=Refused {tag}")["count"] == 0

    assert admin.add_product(f"Lamp {tag}", ("lamp.jpg", jpeg(), "image/jpeg")).status_code == 302
    listed = shopper.ok("GET", f"/products?search={tag}")["results"]
    assert len(listed) == 1 and len(listed[0]["images"]) == 1
    picture = listed[0]["images"][0]
    assert picture["alt"] == f"Lamp {tag}, from the front"
    assert shopper.ok("GET", f"/products/{listed[0]['id']}")["images"] == [picture]

    for url, size in [(picture["thumbnailUrl"], (480, 360)), (picture["detailUrl"], (1200, 900))]:
        served = requests.get(f"{e2e_server.url}{url}", timeout=15)
        assert served.status_code == 200 and served.headers["Content-Type"] == "image/webp"
        assert Image.open(io.BytesIO(served.content)).size == size
    assert requests.get(f"{e2e_server.url}/media/products/0/nothing.webp", timeout=15).status_code == 404
