"""A bounded, retrying load: shoppers who add to cart, check out and pay, as a careful client would.

Each shopper retries a request that got no answer, a 5xx, a 429 or a 409 ``request_in_progress`` /
``payment_in_progress`` with the same ``Idempotency-Key``, after ``Retry-After`` (capped) or a short
back-off, for at most ``GIVE_UP_AFTER`` seconds. Every attempt is recorded with its time, so that the
report can say what clients saw during each fault and how long each interrupted key took to answer.
"""

import itertools
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

GIVE_UP_AFTER = 60.0
PASSWORD = "Fault-T0lerant!"
RETRY_CODES = {"request_in_progress", "payment_in_progress"}
_ids = itertools.count(1)


@dataclass
class Attempt:
    at: float
    seen: str  # "201", "503 database_unavailable", "ConnectionError"...
    retryable: bool


@dataclass
class Call:
    method: str
    path: str
    key: str | None
    retried: bool = True  # False: the caller starts over with new requests instead (adding to a cart)
    attempts: list[Attempt] = field(default_factory=list)
    status: int | None = None  # the final answer; None if the client gave up
    body: dict = field(default_factory=dict)
    answered_at: float | None = None

    @property
    def interrupted(self) -> bool:
        return any(a.retryable for a in self.attempts)

    @property
    def first_failure(self) -> float | None:
        return next((a.at for a in self.attempts if a.retryable), None)

    @property
    def code(self) -> str:
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return errors[0].get("code", "") if errors else ""


@dataclass
class Purchase:
    shopper: int
    result: str = ""  # completed | refused | failed: ...
    order_id: int | None = None
    payment_id: int | None = None
    order_pending_in_answer: bool = False  # paid, but the order-paid event had not been applied yet


class Recorder:
    """Every call of every shopper, thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.purchases: list[Purchase] = []

    def add(self, item) -> None:
        with self.lock:
            (self.calls if isinstance(item, Call) else self.purchases).append(item)


class Shopper:
    def __init__(self, base_url: str, products: list[int], recorder: Recorder, *, seed: int):
        self.base = base_url
        self.products = products
        self.recorder = recorder
        self.random = random.Random(seed)
        self.number = next(_ids)
        self.http = requests.Session()
        self.token = ""
        self.email = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
        self.purchases = 0

    # --- HTTP with retries ---------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict | None = None, *, key: str | None = None, retry=True) -> Call:
        call = Call(method, path, key, retried=retry)
        self.recorder.add(call)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if key:
            headers["Idempotency-Key"] = key
        deadline = time.monotonic() + GIVE_UP_AFTER
        backoff = 0.2
        while True:
            wait = backoff
            try:
                response = self.http.request(method, f"{self.base}{path}", json=body, headers=headers, timeout=(3, 30))
            except requests.RequestException as exc:
                call.attempts.append(Attempt(time.monotonic(), type(exc).__name__, True))
                self.http = requests.Session()  # a fresh connection after a broken one
            else:
                parsed = _json(response)
                code = _code(parsed)
                retryable = response.status_code >= 500 or response.status_code == 429 or code in RETRY_CODES
                call.attempts.append(Attempt(time.monotonic(), f"{response.status_code} {code}".strip(), retryable))
                if not retryable or not retry:
                    call.status, call.body, call.answered_at = response.status_code, parsed, time.monotonic()
                    return call
                wait = min(float(response.headers.get("Retry-After") or backoff), 5.0)
            if not retry or time.monotonic() + wait > deadline:
                return call
            time.sleep(wait)
            backoff = min(backoff * 2, 2.0)

    # --- The shopper's day ---------------------------------------------------------------------

    def register(self) -> None:
        """Register (the operator then verifies the email: see ``verify_emails``), then sign in."""
        account = {"name": "Shopper", "email": self.email, "password": PASSWORD}
        call = self.call("POST", "/auth/register", account)
        assert call.status == 202, (call.status, call.body)
        call = self.call("POST", "/auth/login", {"email": self.email, "password": PASSWORD})
        assert call.status == 200, (call.status, call.body)
        self.token = call.body["access"]

    def log_in(self, purchase: Purchase) -> bool:
        """Log in again (throttled through Redis, which one of the faults stops)."""
        self.token = ""
        call = self.call("POST", "/auth/login", {"email": self.email, "password": PASSWORD})
        if call.status != 200:
            purchase.result = f"failed: login {call.status} {call.code}"
            return False
        self.token = call.body["access"]
        return True

    def fill_cart(self, purchase: Purchase) -> bool:
        """Empty the cart, then add one product; a lost answer to the add starts over (adding is not idempotent)."""
        product = self.random.choice(self.products)
        quantity = self.random.randint(1, 2)
        deadline = time.monotonic() + GIVE_UP_AFTER
        while time.monotonic() < deadline:
            if self.call("DELETE", "/cart").status != 200:
                break
            added = self.call("POST", "/cart", {"productId": product, "quantity": quantity}, retry=False)
            if added.status == 200:
                return True
            if added.status == 409 and added.code == "insufficient_stock":
                purchase.result = "refused"
                return False
            if added.status is not None and added.status < 500 and added.status != 429:
                break
            time.sleep(0.3)
        purchase.result = "failed: cart"
        return False

    def purchase(self) -> Purchase:
        purchase = Purchase(self.number)
        self.recorder.add(purchase)
        self.purchases += 1
        if self.purchases % 6 == 0 and not self.log_in(purchase):
            return purchase
        if not self.fill_cart(purchase):
            return purchase
        checkout = self.call("POST", "/order/checkout", {}, key=f"co-{uuid.uuid4().hex}")
        if checkout.status == 409 and checkout.code == "insufficient_stock":
            purchase.result = "refused"
            return purchase
        if checkout.status not in (200, 201):
            purchase.result = f"failed: checkout {checkout.status} {checkout.code}"
            return purchase
        purchase.order_id = checkout.body["id"]
        paid = self.call(
            "POST", "/payment", {"orderId": purchase.order_id, "token": "tok_visa"}, key=f"pay-{uuid.uuid4().hex}"
        )
        if paid.status in (200, 201) and paid.body["payment"]["status"] == "succeeded":
            purchase.result, purchase.payment_id = "completed", paid.body["payment"]["id"]
            purchase.order_pending_in_answer = paid.body["order"]["status"] != "paid"
        else:
            purchase.result = f"failed: payment {paid.status} {paid.code}"
        return purchase

    def shop_until(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.purchase()


def _json(response) -> dict:
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _code(parsed: dict) -> str:
    errors = parsed.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("code", ""))
    return ""
