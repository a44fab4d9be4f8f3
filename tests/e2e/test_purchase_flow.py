"""The whole shop over real HTTP, as its clients use it: pictures, browse, buy with delivery, pay, ship, expire,
refund; the timeline and the emails of each order."""

import io
import json
import uuid

import pytest
import requests
from PIL import Image

from tests.e2e.harness import text_of
from tests.emails import token_in

pytestmark = pytest.mark.e2e
PASSWORD = "Shop-Passw0rd-e2e"


class Client:
    """A JSON client of the shop with its own bearer token."""

    def __init__(self, base_url: str, token: str | None = None, email: str = ""):
        self.base_url, self.token, self.email = base_url, token, email

    def call(self, method: str, path: str, body=None, **headers) -> requests.Response:
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return requests.request(method, f"{self.base_url}{path}", json=body, headers=headers, timeout=15)

    def upload(self, path: str, files: dict, fields: dict | None = None) -> requests.Response:
        """POST a multipart form (``files``: name -> (filename, bytes, content type))."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.post(f"{self.base_url}{path}", files=files, data=fields, headers=headers, timeout=15)

    def ok(self, method: str, path: str, body=None, status: int = 200, **headers) -> dict:
        response = self.call(method, path, body, **headers)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json() if response.content else {}


def customer(server, name: str) -> Client:
    """A customer who registered, followed the link the server emailed them, and signed in."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.com"
    anonymous = Client(server.url)
    anonymous.ok("POST", "/auth/register", {"name": name, "email": email, "password": PASSWORD}, status=202)
    (verification,) = server.emails_to(email)
    anonymous.ok("POST", "/auth/verify-email", {"token": token_in(text_of(verification))})
    access = anonymous.ok("POST", "/auth/login", {"email": email, "password": PASSWORD})["access"]
    return Client(server.url, access, email)


def staff_member(server) -> Client:
    email = f"staff-{uuid.uuid4().hex[:6]}@example.com"
    server.manage(
        "createsuperuser",
        "--noinput",
        env={"DJANGO_SUPERUSER_EMAIL": email, "DJANGO_SUPERUSER_PASSWORD": PASSWORD, "DJANGO_SUPERUSER_NAME": "Staff"},
    )
    login = Client(server.url).ok("POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert login["user"]["isStaff"] is True
    return Client(server.url, login["access"])


def add_categories(server, *names: str) -> None:
    """Categories added to the managed list, as staff do in the admin (here by the operator's shell)."""
    script = f"from catalog import services; [services.create_category(name=name) for name in {list(names)}]"
    server.manage("shell", "--no-imports", "-c", script)


def error_code(response: requests.Response) -> str:
    return response.json()["errors"][0]["code"]


def ledger_totals(server, product_ids: list[int]) -> dict:
    """Sum of the stock ledger per product, read by the operator's shell."""
    script = (
        "import json; from django.db.models import Sum; from inventory.models import StockMovement; "
        f"print(json.dumps({{pid: StockMovement.objects.filter(product_id=pid).aggregate("
        f"on_hand=Sum('on_hand_delta'), reserved=Sum('reserved_delta')) for pid in {product_ids}}}))"
    )
    return {int(k): v for k, v in json.loads(server.manage("shell", "--no-imports", "-c", script)).items()}


def let_order_expire(server, *order_ids: int) -> None:
    """Time passes for these orders: their reservation deadlines are moved into the past."""
    server.manage(
        "shell",
        "-c",
        "from datetime import timedelta; from django.utils import timezone; from orders.models import Order; "
        f"Order.objects.filter(pk__in={list(order_ids)}).update(expires_at=timezone.now() - timedelta(seconds=1))",
    )


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), "teal").save(out, "JPEG")
    return out.getvalue()


def emails_to(server, address: str) -> list[str]:
    """The subjects of the order emails the server sent to ``address``, oldest first (not the account's)."""
    return [message["Subject"] for message in server.emails_to(address) if message["Subject"].startswith("Order")]


def test_the_whole_purchase_flow(e2e_server):
    staff = staff_member(e2e_server)
    tag = uuid.uuid4().hex[:6]
    add_categories(e2e_server, f"Kitchen {tag}", f"Food {tag}")
    mug = staff.ok(
        "POST", "/products", {"name": f"Mug {tag}", "price": "12.50", "stock": 5, "category": f"kitchen {tag}"}, 201
    )
    assert mug["category"] == f"Kitchen {tag}"
    tea = staff.ok(
        "POST", "/products", {"name": f"Tea {tag}", "price": "3.00", "stock": 10, "category": f"food-{tag}"}, 201
    )
    typo = staff.call("POST", "/products", {"name": "Pan", "price": "9.00", "stock": 1, "category": f"Kichen {tag}"})
    assert (typo.status_code, error_code(typo)) == (400, "unknown_category")
    ann, bob = customer(e2e_server, "Ann"), customer(e2e_server, "Bob")

    # staff give the mug a picture over the API; a file that is not a picture is refused, and customers may not
    images = f"/products/{mug['id']}/images"
    fake = staff.upload(images, {"file": ("mug.jpg", b"<html>not a picture</html>", "image/jpeg")})
    assert (fake.status_code, error_code(fake)) == (400, "invalid_image")
    assert ann.upload(images, {"file": ("mug.jpg", jpeg(), "image/jpeg")}).status_code == 403
    added = staff.upload(images, {"file": ("mug.jpg", jpeg(), "image/jpeg")}, {"alt": f"Mug {tag}, side"})
    assert added.status_code == 201, added.text
    picture = {key: added.json()[key] for key in ("thumbnailUrl", "detailUrl", "alt")}

    # browsing: the list and the product page show the mug's picture, the tea has none
    found = ann.ok("GET", f"/products?search={tag}&ordering=-price")
    assert [p["id"] for p in found["results"]] == [mug["id"], tea["id"]]
    assert [p["images"] for p in found["results"]] == [[picture], []]
    mug_page = ann.ok("GET", f"/products/{mug['id']}")
    assert mug_page["stock"] == 5 and mug_page["images"] == [picture]
    served = requests.get(f"{e2e_server.url}{picture['thumbnailUrl']}", timeout=15)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/webp"

    # Ann: a cart, a checkout, a declined card, then a good one, then a second payment attempt
    ann.ok("POST", "/cart", {"productId": mug["id"], "quantity": 2})
    cart = ann.ok("POST", "/cart", {"productId": tea["id"], "quantity": 1})
    assert cart["subtotal"] == "28.00"
    # ...delivered to a saved address by Express (Bob's orders below use the original `{}` body: no delivery)
    address = {"name": "Ann Ås", "line1": "1 Kungsgatan", "city": "Göteborg", "postalCode": "411 19", "country": "SE"}
    bad = ann.call("POST", "/auth/me/addresses", {**address, "country": "XX"})
    assert bad.status_code == 400 and error_code(bad) == "invalid_country"
    home = ann.ok("POST", "/auth/me/addresses", address, 201)
    assert home["country"] == "SE"
    methods = {m["name"]: m for m in ann.ok("GET", "/order/shipping-methods")}
    assert (methods["Standard"]["price"], methods["Express"]["price"]) == ("4.99", "14.99")
    delivery = {"addressId": home["id"], "shippingMethodId": methods["Express"]["id"]}
    ann_order = ann.ok("POST", "/order/checkout", delivery, 201, **{"Idempotency-Key": f"ann-{tag}"})
    assert (ann_order["subtotal"], ann_order["shipping"], ann_order["total"]) == ("28.00", "14.99", "42.99")
    assert ann_order["status"] == "pending" and ann_order["shippingAddress"]["city"] == "Göteborg"
    declined = ann.call("POST", "/payment", {"orderId": ann_order["id"], "token": "tok_chargeDeclined"})
    assert declined.status_code == 402 and error_code(declined) == "card_declined"
    assert ann.ok("GET", f"/order/{ann_order['id']}")["status"] == "pending"
    paid = ann.ok("POST", "/payment", {"orderId": ann_order["id"], "token": "tok_visa"}, 201)
    assert paid["payment"]["status"] == "succeeded" and paid["payment"]["amount"] == "42.99"
    assert paid["order"]["status"] == "paid" and paid["order"]["paidAt"]
    twice = ann.call("POST", "/payment", {"orderId": ann_order["id"], "token": "tok_visa"})
    assert twice.status_code == 409 and error_code(twice) == "already_paid"

    # Bob: cannot touch Ann's order; buys one mug; leaves a second order unpaid
    assert bob.call("GET", f"/order/{ann_order['id']}").status_code == 404
    assert bob.call("POST", "/payment", {"orderId": ann_order["id"], "token": "tok_visa"}).status_code == 404
    bob.ok("POST", "/cart", {"productId": mug["id"], "quantity": 1})
    bob_paid_order = bob.ok("POST", "/order/checkout", {}, 201)
    bob.ok("POST", "/payment", {"orderId": bob_paid_order["id"], "token": "pm_card_visa"}, 201)
    bob.ok("POST", "/cart", {"productId": tea["id"], "quantity": 4})
    bob_unpaid_order = bob.ok("POST", "/order/checkout", {}, 201)
    assert staff.ok("GET", f"/inventory/{tea['id']}")["reserved"] == 4

    # staff ship and deliver Ann's order
    staff.ok("PATCH", f"/order/{ann_order['id']}/status", {"status": "shipped"})
    assert staff.ok("PATCH", f"/order/{ann_order['id']}/status", {"status": "delivered"})["status"] == "delivered"

    # Bob's unpaid order expires: the job cancels it and its stock comes back
    let_order_expire(e2e_server, bob_unpaid_order["id"])
    assert "Expired orders cancelled: 1" in e2e_server.manage("release_expired_reservations")
    assert bob.ok("GET", f"/order/{bob_unpaid_order['id']}")["status"] == "cancelled"
    late = bob.call("POST", "/payment", {"orderId": bob_unpaid_order["id"], "token": "tok_visa"})
    assert late.status_code == 409 and error_code(late) == "order_not_payable"

    # staff refund Bob's paid order: money back, stock back
    assert staff.ok("POST", f"/order/{bob_paid_order['id']}/cancel")["status"] == "refunded"

    # everything adds up
    mug_level = staff.ok("GET", f"/inventory/{mug['id']}")
    tea_level = staff.ok("GET", f"/inventory/{tea['id']}")
    assert (mug_level["onHand"], mug_level["reserved"], mug_level["stock"]) == (3, 0, 3)
    assert (tea_level["onHand"], tea_level["reserved"], tea_level["stock"]) == (9, 0, 9)
    assert ledger_totals(e2e_server, [mug["id"], tea["id"]]) == {
        mug["id"]: {"on_hand": 3, "reserved": 0},
        tea["id"]: {"on_hand": 9, "reserved": 0},
    }
    statuses = {o["id"]: o["status"] for o in staff.ok("GET", "/order?pageSize=100")["results"]}
    assert statuses[ann_order["id"]] == "delivered"
    assert statuses[bob_paid_order["id"]] == "refunded"
    assert statuses[bob_unpaid_order["id"]] == "cancelled"
    ann_payments = ann.ok("GET", f"/payment?orderId={ann_order['id']}")["results"]
    assert sorted(p["status"] for p in ann_payments) == ["failed", "succeeded"]
    assert [p["status"] for p in bob.ok("GET", f"/payment?orderId={bob_paid_order['id']}")["results"]] == ["refunded"]
    assert bob.ok("GET", f"/payment?orderId={bob_unpaid_order['id']}")["results"] == []

    # each order's timeline tells who moved it, and when
    def timeline(client, order):
        return [
            (e["fromStatus"], e["toStatus"], e["actor"]) for e in client.ok("GET", f"/order/{order['id']}")["timeline"]
        ]

    assert timeline(ann, ann_order) == [
        (None, "pending", "customer"),
        ("pending", "paid", "payment_provider"),
        ("paid", "shipped", "staff"),
        ("shipped", "delivered", "staff"),
    ]
    assert timeline(bob, bob_unpaid_order)[-1] == ("pending", "cancelled", "expiry_job")
    assert timeline(bob, bob_paid_order)[-1] == ("paid", "refunded", "staff")

    # one email per change a customer hears of (delivery is not one), none sent again by the retry job
    assert "delivered=0 failed=0" in e2e_server.manage("relay_events")
    a, b, c = ann_order["id"], bob_paid_order["id"], bob_unpaid_order["id"]
    assert emails_to(e2e_server, ann.email) == [
        f"Order #{a} received",
        f"Order #{a} is paid",
        f"Order #{a} is on its way",
    ]
    assert sorted(emails_to(e2e_server, bob.email)) == sorted(
        [
            f"Order #{b} received",
            f"Order #{b} is paid",
            f"Order #{b} is refunded",
            f"Order #{c} received",
            f"Order #{c} is cancelled",
        ]
    )
