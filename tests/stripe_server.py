"""A Stripe-compatible HTTP server for tests (test equipment, not product code).

It implements the few v1 endpoints the shop calls, with Stripe's error bodies and Idempotency-Key
replay, so that the real SDK can be driven over HTTP on 127.0.0.1:

- ``POST /v1/payment_intents`` (form-encoded, as the SDK sends it), ``GET /v1/payment_intents/{id}``,
  ``POST /v1/refunds`` (``payment_intent=...``);
- requests need ``Authorization: Bearer sk_test_...`` (401 otherwise);
- test tokens answer as in Stripe test mode: ``tok_visa``/``pm_card_visa`` (and mastercard, amex)
  succeed; ``tok_chargeDeclined``, ``...InsufficientFunds``, ``...ExpiredCard``, ``...IncorrectCvc``
  (and their ``pm_card_`` twins) decline with 402; ``tok_threeDSecure2Required``/
  ``pm_card_threeDSecure2Required`` leave the PaymentIntent in ``requires_action``; any other token is
  400 ``resource_missing``;
- a POST with a known Idempotency-Key and the same path and parameters gets the first response again
  (with ``Idempotent-Replayed: true``) and does nothing; with other parameters, 400 ``idempotency_error``.
  As on Stripe, responses to requests that failed validation are not saved.

Usage::

    with StripeServer() as server:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.url})
        server.fail_next(1, status=503)   # the next request answers 503 without doing anything
        server.delay_seconds = 1.0        # process, then wait before answering (client timeouts)
        server.charge_count, server.refund_count, server.payment_intents, server.refunds, server.idempotency_keys
"""

import copy
import hashlib
import hmac
import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

Response = tuple[int, dict[str, Any]]
Answer = tuple[int, bytes, dict[str, str]]  # status, JSON body, extra headers

SUCCEEDING_CARDS = frozenset({"visa", "mastercard", "amex"})
AUTHENTICATION_REQUIRED_CARDS = frozenset({"threeDSecure2Required"})
# Test card -> (code, decline_code, message, param), as Stripe test mode answers.
DECLINING_CARDS = {
    "chargeDeclined": ("card_declined", "generic_decline", "Your card was declined.", None),
    "chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
        None,
    ),
    "chargeDeclinedExpiredCard": ("expired_card", "expired_card", "Your card has expired.", "exp_month"),
    "chargeDeclinedIncorrectCvc": ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc"),
}
KNOWN_CARDS = SUCCEEDING_CARDS | AUTHENTICATION_REQUIRED_CARDS | frozenset(DECLINING_CARDS)


class StripeServer:
    """A running fake Stripe on 127.0.0.1 (a free port); its controls are safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.delay_seconds = 0.0
        self.reset()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.stripe = self
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="stripe-test-server", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> "StripeServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def charge_count(self) -> int:
        """PaymentIntents actually created (replays not counted), declined ones included."""
        with self._lock:
            return self._charge_count

    @property
    def refund_count(self) -> int:
        """Refunds actually created (replays not counted)."""
        with self._lock:
            return self._refund_count

    @property
    def payment_intents(self) -> dict[str, dict[str, Any]]:
        """A copy of the PaymentIntents by id, as the API shows them."""
        with self._lock:
            return copy.deepcopy(self._payment_intents)

    @property
    def refunds(self) -> dict[str, dict[str, Any]]:
        """A copy of the refunds by id."""
        with self._lock:
            return copy.deepcopy(self._refunds)

    @property
    def idempotency_keys(self) -> dict[str, str]:
        """The Idempotency-Key each object was created with, by object id (Stripe shows it on events)."""
        with self._lock:
            return dict(self._idempotency_keys)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next n requests with a Stripe error of this status (500, 503, 429...), doing nothing."""
        with self._lock:
            self._failures = [status] * n

    def reset(self) -> None:
        """Forget every object, idempotency key, pending failure and delay."""
        with self._lock:
            self.delay_seconds = 0.0
            self._charge_count = 0
            self._refund_count = 0
            self._payment_intents: dict[str, dict[str, Any]] = {}
            self._refunds: dict[str, dict[str, Any]] = {}
            self._idempotent: dict[str, tuple[tuple[Any, ...], Answer]] = {}
            self._idempotency_keys: dict[str, str] = {}
            self._failures: list[int] = []

    def stop(self) -> None:
        """Stop serving and cut short any delayed answer; safe to call twice."""
        if not self._stopped.is_set():
            self._stopped.set()
            self._httpd.shutdown()
            self._httpd.server_close()

    def _answer(self, method: str, path: str, headers: dict[str, str], body: str) -> Answer:
        """Process one request: its status, its body (serialized now, a snapshot) and extra headers."""
        with self._lock:
            if self._failures:
                return _serialized(_provider_failure(self._failures.pop()))
            if not re.fullmatch(r"Bearer sk_test_\w+", headers.get("authorization", "")):
                return _serialized(_error(401, "invalid_request_error", "Invalid API Key provided."))
            key = headers.get("idempotency-key", "") if method == "POST" else ""
            fingerprint = (method, path, sorted(parse_qsl(body, keep_blank_values=True)))
            if key in self._idempotent:
                first_fingerprint, (status, data, _) = self._idempotent[key]
                if first_fingerprint != fingerprint:
                    message = (
                        "Keys for idempotent requests can only be used with the same parameters they were first"
                        f" used with. Try using a key other than '{key}' if you meant to execute a different request."
                    )
                    return _serialized(_error(400, "idempotency_error", message))
                return status, data, {"Idempotency-Key": key, "Idempotent-Replayed": "true"}
            answer = _serialized(self._route(method, path, _decode_form(body), key), key)
            if key and (answer[0] < 400 or answer[0] == 402):
                self._idempotent[key] = (fingerprint, answer)
            return answer

    def _route(self, method: str, path: str, params: dict[str, Any], key: str) -> Response:
        if method == "POST" and path == "/v1/payment_intents":
            return self._create_payment_intent(params, key)
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(params, key)
        if method == "GET" and (match := re.fullmatch(r"/v1/payment_intents/([^/]+)", path)):
            intent = self._payment_intents.get(match[1])
            if intent is None:
                return _missing("payment_intent", match[1], param="intent", status=404)
            return 200, intent
        return _error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _create_payment_intent(self, params: dict[str, Any], key: str) -> Response:
        for name in ("amount", "currency"):
            if name not in params:
                message = f"Missing required param: {name}."
                return _error(400, "invalid_request_error", message, "parameter_missing", name)
        if not params["amount"].isdigit() or int(params["amount"]) < 1:
            message = "This value must be greater than or equal to 1."
            return _error(400, "invalid_request_error", message, "parameter_invalid_integer", "amount")
        if "payment_method" in params:
            token, param, prefix, kind = params["payment_method"], "payment_method", "pm_card_", "PaymentMethod"
        else:
            card_data = params.get("payment_method_data", {}).get("card", {})
            token, param, prefix, kind = card_data.get("token", ""), "payment_method_data[card][token]", "tok_", "token"
        card = token.removeprefix(prefix) if token.startswith(prefix) else ""
        if card not in KNOWN_CARDS:
            return _error(400, "invalid_request_error", f"No such {kind}: '{token}'", "resource_missing", param)

        intent_id = _new_id("pi")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "capture_method": "automatic",
            "client_secret": f"{intent_id}_secret_{uuid.uuid4().hex}",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "currency": params["currency"],
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "next_action": None,
            "payment_method": _new_id("pm"),
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "status": "requires_confirmation",
        }
        self._payment_intents[intent_id] = intent
        self._idempotency_keys[intent_id] = key
        self._charge_count += 1
        if params.get("confirm") != "true":
            return 200, intent
        if card in AUTHENTICATION_REQUIRED_CARDS:
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {}})
            return 200, intent
        intent["latest_charge"] = _new_id("ch")
        if card in DECLINING_CARDS:
            code, decline_code, message, card_param = DECLINING_CARDS[card]
            error = {
                "type": "card_error",
                "code": code,
                "decline_code": decline_code,
                "message": message,
                "param": card_param,
                "charge": intent["latest_charge"],
                "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            }
            intent.update(status="requires_payment_method", last_payment_error=error)
            return 402, {"error": {**error, "payment_intent": copy.deepcopy(intent)}}
        intent.update(status="succeeded", amount_received=intent["amount"])
        return 200, intent

    def _create_refund(self, params: dict[str, Any], key: str) -> Response:
        intent_id = params.get("payment_intent")
        if not intent_id:
            return _error(400, "invalid_request_error", "Missing required param: payment_intent.", "parameter_missing")
        intent = self._payment_intents.get(intent_id)
        if intent is None:
            return _missing("payment_intent", intent_id, param="payment_intent", status=404)
        if intent["status"] != "succeeded":
            message = f"This PaymentIntent ({intent_id}) does not have a successful charge to refund."
            return _error(400, "invalid_request_error", message, "charge_not_refundable", "payment_intent")
        if any(refund["payment_intent"] == intent_id for refund in self._refunds.values()):
            message = f"Charge {intent['latest_charge']} has already been refunded."
            return _error(400, "invalid_request_error", message, "charge_already_refunded")
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": intent["amount"],
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "metadata": {},
            "payment_intent": intent_id,
            "reason": params.get("reason"),
            "status": "succeeded",
        }
        self._refunds[refund["id"]] = refund
        self._idempotency_keys[refund["id"]] = key
        self._refund_count += 1
        return 200, refund


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    stripe: StripeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected; anything else is a bug worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake = self.server.stripe
        delay = fake.delay_seconds
        status, data, extra_headers = fake._answer(self.command, urlsplit(self.path).path, headers, body)
        fake._stopped.wait(delay)  # processed already: a client that gives up meanwhile was still charged
        self.send_response(status)
        for name, value in {**extra_headers, "Request-Id": _new_id("req")}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


def sign_webhook_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A valid ``Stripe-Signature`` header value for payload: ``t=<unix time>,v1=<HMAC-SHA256 of "t.payload">``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def make_event(event_id: str, type: str, data_object: dict[str, Any]) -> dict[str, Any]:
    """A Stripe event as a webhook delivers it, e.g. make_event("evt_1", "payment_intent.succeeded", intent)."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "data": {"object": data_object},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _error(status: int, error_type: str, message: str, code: str | None = None, param: str | None = None) -> Response:
    """Stripe's error body; like Stripe, it leaves out the fields that are null."""
    error = {"type": error_type, "message": message, "code": code, "param": param}
    return status, {"error": {name: value for name, value in error.items() if value is not None}}


def _serialized(response: Response, idempotency_key: str = "") -> Answer:
    status, payload = response
    return status, json.dumps(payload).encode(), {"Idempotency-Key": idempotency_key} if idempotency_key else {}


def _missing(kind: str, object_id: str, *, param: str, status: int) -> Response:
    return _error(status, "invalid_request_error", f"No such {kind}: '{object_id}'", "resource_missing", param)


def _provider_failure(status: int) -> Response:
    if status == 429:
        message = "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."
        return _error(429, "invalid_request_error", message, "rate_limit")
    return _error(status, "api_error", "An unknown error occurred, please retry.")


def _decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0]=x``) back to nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        *parents, leaf = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return _lists_from_indexes(root)


def _lists_from_indexes(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _lists_from_indexes(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items
