"""Every answer of the shop, over real HTTP, validated against the schema it serves at /api/schema.

The purchase flow is walked as clients walk it, with its errors (400, 401, 402, 403, 404, 406, 409,
413, 415, 422), idempotent replays and staff operations, and each response (status, headers, body) is
checked by openapi-core against the served schema: the schema is the contract, not a description.
"""

import io
import uuid
from urllib.parse import quote

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from PIL import Image

from tests.e2e.harness import text_of
from tests.emails import token_in

pytestmark = pytest.mark.e2e
PASSWORD = "Schema-Passw0rd-e2e"


class Contract:
    """Sends requests to the server and validates every response against the served schema."""

    def __init__(self, server):
        self.server, self.url = server, server.url
        url = self.url
        spec = requests.get(f"{url}/api/schema", headers={"Accept": "application/vnd.oai.openapi+json"}, timeout=10)
        spec.raise_for_status()
        self.spec = spec.json()
        self.openapi = OpenAPI.from_dict(self.spec)
        self.seen: dict[tuple[str, str], set[int]] = {}

    def call(
        self, method: str, template: str, *, token=None, body=None, data=None, files=None, headers=None, **ids
    ) -> requests.Response:
        """Call ``template`` (a documented path, e.g. ``/order/{id}``) and validate the answer."""
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = self.url + template.format(**ids)
        request = requests.Request(method, url, json=body, data=data, files=files, headers=headers)
        prepared = request.prepare()
        with requests.Session() as session:
            response = session.send(prepared, timeout=15)
        self.openapi.validate_response(RequestsOpenAPIRequest(prepared), RequestsOpenAPIResponse(response))
        assert response.headers.get("X-Request-ID"), (method, template)
        self.seen.setdefault((method.lower(), template), set()).add(response.status_code)
        return response

    def expect(self, status: int, method: str, template: str, code: str | None = None, **kwargs) -> dict:
        response = self.call(method, template, **kwargs)
        assert response.status_code == status, (method, template, response.status_code, response.text)
        body = response.json() if response.content else {}
        if code is not None:
            assert [error["code"] for error in body["errors"]][:1] == [code], body
        return body


@pytest.fixture(scope="module")
def api(e2e_server) -> Contract:
    e2e_server.manage("load_demo_catalogue")
    return Contract(e2e_server)


def emailed_token(api: Contract, email: str) -> str:
    """The token of the link in the latest email the server sent to ``email``."""
    return token_in(text_of(api.server.emails_to(email)[-1]))


def sign_up(api: Contract, name: str, *, verified: bool = True) -> str:
    """Register (following the emailed link unless ``verified=False``) and sign in: the access token."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    api.expect(202, "POST", "/auth/register", body={"name": name, "email": email, "password": PASSWORD})
    if verified:
        api.expect(200, "POST", "/auth/verify-email", body={"token": emailed_token(api, email)})
    return api.expect(200, "POST", "/auth/login", body={"email": email, "password": PASSWORD})["access"]


def staff_token(api: Contract, server) -> str:
    email = f"staff-{uuid.uuid4().hex[:8]}@example.com"
    server.manage(
        "createsuperuser",
        "--noinput",
        env={"DJANGO_SUPERUSER_EMAIL": email, "DJANGO_SUPERUSER_PASSWORD": PASSWORD, "DJANGO_SUPERUSER_NAME": "S"},
    )
    return api.expect(200, "POST", "/auth/login", body={"email": email, "password": PASSWORD})["access"]


def test_accounts_answers_match_the_schema(api):
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    account = {"name": "Ada Lovelace", "email": email, "password": PASSWORD}
    registered = api.expect(202, "POST", "/auth/register", body=account)
    assert api.expect(202, "POST", "/auth/register", body=account) == registered  # the same for a taken email
    weak = {
        "password_too_short": "Ab1!",
        "password_too_common": "password1234",
        "password_entirely_numeric": "9384750293847",
        "password_too_similar": "{email}",
    }
    for code, password in weak.items():
        other_email = f"x-{uuid.uuid4().hex[:8]}@example.com"
        other = {"name": "Ada Lovelace", "email": other_email, "password": password.format(email=other_email)}
        api.expect(400, "POST", "/auth/register", code, body=other)
    api.expect(400, "POST", "/auth/register", "required", body={"email": email})
    api.expect(
        400, "POST", "/auth/login", "parse_error", data="{not json", headers={"Content-Type": "application/json"}
    )
    api.expect(415, "POST", "/auth/login", "unsupported_media_type", data="a=b", headers={"Content-Type": "text/plain"})
    api.expect(401, "POST", "/auth/login", "invalid_credentials", body={"email": email, "password": "Wrong-0ne!"})

    tokens = api.expect(200, "POST", "/auth/login", body={"email": email, "password": PASSWORD})
    access = tokens["access"]
    me = api.expect(200, "GET", "/auth/me", token=access)
    assert me["email"] == email and me["isStaff"] is False
    api.expect(401, "GET", "/auth/me", "not_authenticated")
    api.expect(401, "GET", "/auth/me", "token_not_valid", token="not-a-token")
    api.expect(401, "GET", "/auth/me", "bad_authorization_header", headers={"Authorization": "Bearer"})
    api.expect(406, "GET", "/auth/me", "not_acceptable", token=access, headers={"Accept": "application/xml"})

    rotated = api.expect(200, "POST", "/auth/refresh", body={"refresh": tokens["refresh"]})
    api.expect(204, "POST", "/auth/logout", token=access, body={"refresh": rotated["refresh"]})
    api.expect(401, "POST", "/auth/logout", "token_not_valid", token=access, body={"refresh": rotated["refresh"]})
    api.expect(401, "POST", "/auth/refresh", "refresh_token_reused", body={"refresh": tokens["refresh"]})
    api.expect(401, "POST", "/auth/refresh", "token_revoked", body={"refresh": rotated["refresh"]})
    api.expect(401, "GET", "/auth/me", "token_revoked", token=access)

    # Verification, password change and reset (signed in again: reusing a rotated refresh token ended the sessions)
    access = api.expect(200, "POST", "/auth/login", body={"email": email, "password": PASSWORD})["access"]
    api.expect(400, "POST", "/auth/verify-email", "invalid_token", body={"token": "forged"})
    api.expect(202, "POST", "/auth/verify-email/resend", token=access)
    api.expect(200, "POST", "/auth/verify-email", body={"token": emailed_token(api, email)})
    api.expect(409, "POST", "/auth/verify-email/resend", "email_already_verified", token=access)
    change = {"currentPassword": "Wrong-Passw0rd-x", "newPassword": "Changed-Passw0rd-e2e"}
    api.expect(400, "POST", "/auth/me/password", "wrong_password", token=access, body=change)
    change["currentPassword"] = PASSWORD
    api.expect(200, "POST", "/auth/me/password", token=access, body=change)
    api.expect(202, "POST", "/auth/password-reset", body={"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com"})
    api.expect(202, "POST", "/auth/password-reset", body={"email": email})
    reset = {"token": emailed_token(api, email), "newPassword": PASSWORD}
    api.expect(400, "POST", "/auth/password-reset/confirm", "password_too_short", body={**reset, "newPassword": "x"})
    api.expect(200, "POST", "/auth/password-reset/confirm", body=reset)
    api.expect(400, "POST", "/auth/password-reset/confirm", "invalid_token", body=reset)

    # Export, then deletion
    access = api.expect(200, "POST", "/auth/login", body={"email": email, "password": PASSWORD})["access"]
    assert api.expect(200, "GET", "/auth/me/export", token=access)["profile"]["email"] == email
    api.expect(401, "GET", "/auth/me/export", "not_authenticated")
    api.expect(400, "DELETE", "/auth/me", "wrong_password", token=access, body={"password": "Wrong-Passw0rd-x"})
    api.expect(204, "DELETE", "/auth/me", token=access, body={"password": PASSWORD})
    api.expect(401, "POST", "/auth/login", "invalid_credentials", body={"email": email, "password": PASSWORD})


def test_catalogue_and_stock_answers_match_the_schema(api, e2e_server):
    staff, customer = staff_token(api, e2e_server), sign_up(api, "Cat")
    page = api.expect(200, "GET", "/products", headers={"Accept": "application/json"})
    assert page["count"] >= 20
    assert all(product["images"] for product in page["results"])  # the demo catalogue's drawn pictures
    detail = api.expect(200, "GET", "/products/{id}", id=page["results"][0]["id"])
    assert detail["images"] == page["results"][0]["images"]
    api.expect(400, "GET", "/products?minPrice=cheap", "invalid")
    api.expect(400, "GET", "/products?ordering=stock", "invalid_choice")
    api.expect(404, "GET", "/products?page=999", "not_found")
    first = api.expect(200, "GET", "/products?pageSize=5")
    after = api.expect(200, "GET", "/products?pageSize=5&cursor={cursor}", cursor=quote(first["nextCursor"]))
    assert [p["id"] for p in after["results"]] == [p["id"] for p in page["results"][5:10]]
    api.expect(400, "GET", "/products?cursor=not-a-cursor", "invalid_cursor")
    api.expect(401, "GET", "/products", "token_not_valid", token="expired")
    api.expect(404, "GET", "/products/{id}", "not_found", id=999_999)

    product = {"name": "Espresso Machine", "category": "Home", "price": "129.00", "stock": 3, "sku": "SCHEMA-1"}
    api.expect(403, "POST", "/products", "permission_denied", token=customer, body=product)
    api.expect(401, "POST", "/products", "not_authenticated", body=product)
    created = api.expect(201, "POST", "/products", token=staff, body=product)
    api.expect(400, "POST", "/products", "sku_taken", token=staff, body=product)
    api.expect(400, "POST", "/products", "unknown_field", token=staff, body={**product, "sku": None, "colour": "red"})
    api.expect(400, "POST", "/products", "min_value", token=staff, body={**product, "sku": None, "price": "0.00"})
    pid = created["id"]
    api.expect(200, "GET", "/products/{id}", id=pid)
    api.expect(200, "PATCH", "/products/{id}", token=staff, body={"price": "119.00"}, id=pid)
    api.expect(404, "PATCH", "/products/{id}", "not_found", token=staff, body={"price": "1.00"}, id=999_999)
    api.expect(400, "PATCH", "/products/{id}", "unknown_category", token=staff, body={"category": "Nowhere"}, id=pid)

    level = api.expect(200, "GET", "/inventory/{productId}", token=staff, productId=pid)
    assert (level["stock"], level["onHand"], level["reserved"]) == (3, 3, 0)
    assert "onHand" not in api.expect(200, "GET", "/inventory/{productId}", token=customer, productId=pid)
    body = {"adjustBy": 2, "reason": "Delivery"}
    assert api.expect(200, "PATCH", "/inventory/{productId}", token=staff, body=body, productId=pid)["stock"] == 5
    assert (
        api.expect(200, "PATCH", "/inventory/{productId}", token=staff, body={"stock": 4}, productId=pid)["stock"] == 4
    )
    both = {"stock": 1, "adjustBy": 1}
    api.expect(400, "PATCH", "/inventory/{productId}", "stock_or_adjust_by", token=staff, body=both, productId=pid)
    api.expect(
        409, "PATCH", "/inventory/{productId}", "insufficient_stock", token=staff, body={"adjustBy": -9}, productId=pid
    )
    api.expect(403, "PATCH", "/inventory/{productId}", "permission_denied", token=customer, body=body, productId=pid)
    api.expect(404, "GET", "/inventory/{productId}", "not_found", token=staff, productId=999_999)
    assert api.expect(200, "GET", "/inventory/{productId}/movements", token=staff, productId=pid)["count"] >= 1
    api.expect(403, "GET", "/inventory/{productId}/movements", "permission_denied", token=customer, productId=pid)
    api.expect(404, "GET", "/inventory/{productId}/movements", "not_found", token=staff, productId=999_999)

    # Pictures (multipart uploads)
    jpeg = io.BytesIO()
    Image.new("RGB", (640, 480), "orange").save(jpeg, "JPEG")
    upload = {"file": ("machine.jpg", jpeg.getvalue(), "image/jpeg")}
    added = api.expect(201, "POST", "/products/{id}/images", token=staff, files=upload, data={"alt": "Front"}, id=pid)
    assert api.expect(200, "GET", "/products/{id}", id=pid)["images"][0]["detailUrl"] == added["detailUrl"]
    assert api.expect(200, "GET", "/products/{id}/images", token=staff, id=pid)["results"] == [added]
    text = {"file": ("machine.jpg", b"not a picture", "image/jpeg")}
    api.expect(400, "POST", "/products/{id}/images", "invalid_image", token=staff, files=text, id=pid)
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    kind = {"file": ("a.gif", gif.getvalue(), "image/gif")}
    api.expect(400, "POST", "/products/{id}/images", "unsupported_image_type", token=staff, files=kind, id=pid)
    api.expect(400, "POST", "/products/{id}/images", "required", token=staff, files={"alt": (None, "x")}, id=pid)
    api.expect(403, "POST", "/products/{id}/images", "permission_denied", token=customer, files=upload, id=pid)
    api.expect(403, "GET", "/products/{id}/images", "permission_denied", token=customer, id=pid)
    api.expect(404, "POST", "/products/{id}/images", "not_found", token=staff, files=upload, id=999_999)
    api.expect(415, "POST", "/products/{id}/images", "unsupported_media_type", token=staff, body={"file": "x"}, id=pid)
    image_path = "/products/{id}/images/{imageId}"
    api.expect(403, "DELETE", image_path, "permission_denied", token=customer, id=pid, imageId=added["id"])
    api.expect(204, "DELETE", image_path, token=staff, id=pid, imageId=added["id"])
    api.expect(404, "DELETE", image_path, "not_found", token=staff, id=pid, imageId=added["id"])

    api.expect(204, "DELETE", "/products/{id}", token=staff, id=pid)
    api.expect(404, "GET", "/products/{id}", "not_found", id=pid)
    assert api.expect(200, "GET", "/products/{id}", token=staff, id=pid)["isActive"] is False


def test_purchase_flow_answers_match_the_schema(api, e2e_server):
    staff, buyer, other = staff_token(api, e2e_server), sign_up(api, "Buyer"), sign_up(api, "Other")
    product = api.expect(201, "POST", "/products", token=staff, body={"name": "Lamp", "price": "20.00", "stock": 5})
    pid = product["id"]

    api.expect(409, "POST", "/order/checkout", "cart_empty", token=buyer, body={})
    api.expect(401, "GET", "/cart", "not_authenticated")
    api.expect(200, "GET", "/cart", token=buyer)
    api.expect(200, "POST", "/cart", token=buyer, body={"productId": pid, "quantity": 2})
    short = api.expect(409, "POST", "/cart", "insufficient_stock", token=buyer, body={"productId": pid, "quantity": 9})
    assert (short["errors"][0]["productIds"], short["errors"][0]["available"]) == ([pid], 5)
    api.expect(404, "POST", "/cart", "not_found", token=buyer, body={"productId": 999_999, "quantity": 1})
    api.expect(400, "POST", "/cart", "min_value", token=buyer, body={"productId": pid, "quantity": 0})
    api.expect(400, "POST", "/cart", "unknown_field", token=buyer, body={"productId": pid, "quantity": 1, "x": 1})
    api.expect(400, "POST", "/cart", "invalid", token=buyer, body=[1])
    huge = "x" * (2 * 1024 * 1024)
    headers = {"Content-Type": "application/json"}
    api.expect(413, "POST", "/cart", "request_too_large", token=buyer, data=huge, headers=headers)
    api.expect(200, "PATCH", "/cart/{productId}", token=buyer, body={"quantity": 3}, productId=pid)
    api.expect(
        409, "PATCH", "/cart/{productId}", "insufficient_stock", token=buyer, body={"quantity": 6}, productId=pid
    )
    api.expect(404, "DELETE", "/cart/{productId}", "not_found", token=buyer, productId=999_999)
    api.expect(404, "PATCH", "/cart/{productId}", "not_found", token=buyer, body={"quantity": 1}, productId=999_999)

    # Checkout that comes too late for the stock: 409 naming the product, nothing changed.
    api.expect(200, "POST", "/cart", token=other, body={"productId": pid, "quantity": 1})
    api.expect(200, "PATCH", "/inventory/{productId}", token=staff, body={"stock": 0}, productId=pid)
    late = api.expect(409, "POST", "/order/checkout", "insufficient_stock", token=other, body={})
    assert late["errors"][0]["productIds"] == [pid]
    api.expect(200, "DELETE", "/cart", token=other)
    api.expect(200, "PATCH", "/inventory/{productId}", token=staff, body={"stock": 5}, productId=pid)

    key = {"Idempotency-Key": f"checkout-{uuid.uuid4().hex}"}
    first = api.call("POST", "/order/checkout", token=buyer, body={}, headers=key)
    assert first.status_code == 201, first.text
    replay = api.call("POST", "/order/checkout", token=buyer, body={}, headers=key)
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed"), replay.json()) == (200, "true", first.json())
    api.expect(422, "POST", "/order/checkout", "idempotency_key_reused", token=buyer, body={"x": 1}, headers=key)
    api.expect(400, "POST", "/order/checkout", "unknown_field", token=buyer, body={"x": 1})
    order_id = first.json()["id"]

    assert api.expect(200, "GET", "/order", token=buyer)["count"] == 1
    api.expect(200, "GET", "/order/{id}", token=buyer, id=order_id)
    api.expect(404, "GET", "/order/{id}", "not_found", token=other, id=order_id)
    api.expect(400, "GET", "/order?status=lost", "invalid_choice", token=staff)
    api.expect(200, "GET", "/order?status=pending", token=staff)
    shipped = {"status": "shipped"}
    api.expect(403, "PATCH", "/order/{id}/status", "permission_denied", token=buyer, body=shipped, id=order_id)
    api.expect(409, "PATCH", "/order/{id}/status", "invalid_transition", token=staff, body=shipped, id=order_id)

    declined = api.expect(
        402, "POST", "/payment", "card_declined", token=buyer, body={"orderId": order_id, "token": "tok_chargeDeclined"}
    )
    assert declined["type"] == "client_error"
    api.expect(
        400, "POST", "/payment", "invalid_payment_token", token=buyer, body={"orderId": order_id, "token": "visa"}
    )
    api.expect(404, "POST", "/payment", "not_found", token=other, body={"orderId": order_id, "token": "tok_visa"})
    unverified = sign_up(api, "Una", verified=False)
    api.expect(
        403, "POST", "/payment", "email_not_verified", token=unverified, body={"orderId": order_id, "token": "tok_visa"}
    )
    key = {"Idempotency-Key": f"payment-{uuid.uuid4().hex}"}
    pay = {"orderId": order_id, "token": "tok_visa"}
    paid = api.call("POST", "/payment", token=buyer, body=pay, headers=key)
    assert paid.status_code == 201, paid.text
    replay = api.call("POST", "/payment", token=buyer, body=pay, headers=key)
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed"), replay.json()) == (200, "true", paid.json())
    api.expect(409, "POST", "/payment", "already_paid", token=buyer, body=pay)
    too_long = {"Idempotency-Key": "k" * 256}
    api.expect(400, "POST", "/payment", "invalid_idempotency_key", token=buyer, body=pay, headers=too_long)

    payments = api.expect(200, "GET", "/payment?orderId={id}", token=buyer, id=order_id)
    assert [p["status"] for p in payments["results"]] == ["succeeded", "failed"]
    api.expect(404, "GET", "/payment?orderId={id}", "not_found", token=other, id=order_id)
    api.expect(400, "GET", "/payment?orderId={id}", "min_value", token=buyer, id=0)
    api.expect(200, "PATCH", "/order/{id}/status", token=staff, body=shipped, id=order_id)
    api.expect(409, "POST", "/order/{id}/cancel", "invalid_transition", token=buyer, id=order_id)

    api.expect(200, "POST", "/cart", token=buyer, body={"productId": pid, "quantity": 1})
    pending = api.expect(201, "POST", "/order/checkout", token=buyer, body={})
    assert api.expect(200, "POST", "/order/{id}/cancel", token=buyer, id=pending["id"])["status"] == "cancelled"
    api.expect(404, "POST", "/order/{id}/cancel", "not_found", token=other, id=pending["id"])

    api.expect(200, "GET", "/order/shipping-methods", token=buyer)
    address = {"name": "Ada", "line1": "1 Main St", "city": "London", "postalCode": "SW1Y 4JH", "country": "GB"}
    saved = api.expect(201, "POST", "/auth/me/addresses", token=buyer, body=address)
    api.expect(400, "POST", "/auth/me/addresses", "invalid_country", token=buyer, body={**address, "country": "XX"})
    assert api.expect(200, "GET", "/auth/me/addresses", token=buyer)["count"] == 1
    api.expect(200, "GET", "/auth/me/addresses/{id}", token=buyer, id=saved["id"])
    api.expect(404, "GET", "/auth/me/addresses/{id}", "not_found", token=other, id=saved["id"])
    api.expect(200, "PUT", "/auth/me/addresses/{id}", token=buyer, body={**address, "city": "Leeds"}, id=saved["id"])
    api.expect(204, "DELETE", "/auth/me/addresses/{id}", token=buyer, id=saved["id"])

    event = {"id": "evt_1", "type": "payment_intent.succeeded", "data": {}}
    api.expect(
        400, "POST", "/payment/webhook", "invalid_signature", body=event, headers={"Stripe-Signature": "t=1,v1=0"}
    )
    api.expect(200, "GET", "/health")


def test_every_documented_operation_was_checked(api):
    """Run last in this module: the flows above between them call every operation of the schema."""
    documented = {
        (method, path)
        for path, item in api.spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    called = {(method, template.split("?")[0]) for method, template in api.seen}
    assert documented - called == set()
