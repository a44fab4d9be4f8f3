"""The served schema reads as documentation for API users: summaries, examples, exact errors and headers."""

import re

import pytest

pytestmark = pytest.mark.django_db

WRITE_METHODS = {"post", "put", "patch"}
# Words about how the shop is built, which mean nothing to a client of the API.
IMPLEMENTATION_WORDS = re.compile(
    r"transaction|ledger|blacklist|serializer|row lock|select_for_update|STRIPE_|settings\.|queryset|/accounts/",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def error_codes(response: dict) -> set[str]:
    items = response["content"]["application/json"]["schema"]["properties"]["errors"]["items"]
    codes = set()
    for item in items.get("oneOf", [items]):
        if "$ref" not in item:  # the named ones (InsufficientStockError) are checked on their own
            codes.update(item["properties"]["code"]["enum"])
    return codes


def resolve(schema, ref_or_schema: dict) -> dict:
    ref = ref_or_schema.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def test_every_operation_has_a_distinct_summary(schema):
    summaries = [operation.get("summary") for _, _, operation in operations(schema)]
    assert None not in summaries
    assert len(set(summaries)) == len(summaries)


def test_every_write_operation_has_a_named_request_example(schema):
    missing = [
        (method, path)
        for method, path, operation in operations(schema)
        if method in WRITE_METHODS
        and "requestBody" in operation
        and not any(media.get("examples") for media in operation["requestBody"]["content"].values())
    ]
    assert missing == []


def test_descriptions_are_written_for_api_users(schema):
    text = str(schema)
    assert IMPLEMENTATION_WORDS.findall(text) == []


def test_path_ids_are_integers_and_named_after_what_they_identify(schema):
    for _method, path, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"]["type"] == "integer", (path, parameter)
                assert "{" + parameter["name"] + "}" in path
    assert {"/cart/{productId}", "/inventory/{productId}", "/products/{id}", "/order/{id}"} <= set(schema["paths"])


def test_public_operations_show_no_lock_and_the_others_need_a_bearer_token(schema):
    public = {
        ("get", "/products"),
        ("get", "/products/{id}"),
        ("post", "/auth/register"),
        ("post", "/auth/login"),
        ("post", "/auth/refresh"),
        ("post", "/auth/verify-email"),
        ("post", "/auth/password-reset"),
        ("post", "/auth/password-reset/confirm"),
        ("get", "/health"),
        ("post", "/payment/webhook"),
    }
    for method, path, operation in operations(schema):
        if (method, path) in public:
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == [{"jwtAuth": []}], (method, path)


def test_register_lists_every_password_rule_and_never_a_taken_email(schema):
    codes = error_codes(schema["paths"]["/auth/register"]["post"]["responses"]["400"])
    assert "email_taken" not in codes  # the answer does not tell who has an account
    assert {
        "password_too_similar",
        "password_too_short",
        "password_too_common",
        "password_entirely_numeric",
    } <= codes


def test_insufficient_stock_declares_its_product_ids_and_available_units(schema):
    component = schema["components"]["schemas"]["InsufficientStockError"]
    assert component["properties"]["code"]["enum"] == ["insufficient_stock"]
    assert component["properties"]["productIds"]["items"]["type"] == "integer"
    assert component["properties"]["available"]["type"] == "integer"
    for path, method in [("/cart", "post"), ("/order/checkout", "post"), ("/cart/{productId}", "patch")]:
        items = schema["paths"][path][method]["responses"]["409"]["content"]["application/json"]["schema"]
        refs = [item.get("$ref") for item in items["properties"]["errors"]["items"].get("oneOf", [])]
        direct = items["properties"]["errors"]["items"].get("$ref")
        assert "#/components/schemas/InsufficientStockError" in [*refs, direct], (method, path)


def test_replays_are_documented_with_their_header(schema):
    for path in ["/order/checkout", "/payment"]:
        responses = schema["paths"][path]["post"]["responses"]
        assert {"200", "201", "409", "422"} <= set(responses)
        assert "Idempotent-Replayed" in responses["200"]["headers"]
        assert "idempotency_key_reused" in error_codes(responses["422"])
        assert "request_in_progress" in error_codes(responses["409"])


def test_every_response_carries_the_request_id_and_waits_carry_retry_after(schema):
    assert schema["components"]["headers"]["X-Request-ID"]["required"] is True
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            assert "X-Request-ID" in response["headers"], (method, path, status)
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"], (method, path, status)
    assert "429" in schema["paths"]["/auth/login"]["post"]["responses"]


def test_payment_documents_its_declines_and_the_test_tokens_that_cause_them(schema):
    operation = schema["paths"]["/payment"]["post"]
    assert {"card_declined", "insufficient_funds", "expired_card", "incorrect_cvc"} <= error_codes(
        operation["responses"]["402"]
    )
    assert "invalid_payment_token" in error_codes(operation["responses"]["400"])
    for token in ["tok_visa", "tok_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"]:
        assert token in operation["description"]


def test_staff_operations_document_403_and_customer_ones_do_not(schema):
    responses = schema["paths"]
    assert "permission_denied" in error_codes(responses["/products"]["post"]["responses"]["403"])
    assert "permission_denied" in error_codes(responses["/inventory/{productId}"]["patch"]["responses"]["403"])
    assert "403" not in responses["/cart"]["post"]["responses"]
    assert "401" not in responses["/auth/register"]["post"]["responses"]


def test_the_pagination_example_points_at_the_list_itself(schema):
    page = resolve(
        schema, schema["paths"]["/order"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert page["properties"]["next"]["example"].startswith("https://shop.example.com/order?page=")


def test_swagger_ui_keeps_the_authorization_across_reloads(client):
    script = client.get("/api/docs", {"script": ""})
    assert script.status_code == 200
    assert '"persistAuthorization": true' in script.content.decode()


def test_a_blank_value_the_api_takes_is_valid_in_the_schema(schema):
    """An optional text field that may be blank (a stock change's reason, an address line) takes "" in the schema
    too: no ``oneOf`` whose branches both match it (which makes "" invalid), as the fuzzer found for the reason."""
    from jsonschema import Draft202012Validator

    for name, component in schema["components"]["schemas"].items():
        for field, prop in component.get("properties", {}).items():
            branches = prop.get("oneOf", [])
            assert sum(Draft202012Validator(branch).is_valid("") for branch in branches) <= 1, (name, field)
    stock_change = resolve(schema, {"$ref": "#/components/schemas/StockLevelUpdateRequest"})
    assert Draft202012Validator(stock_change).is_valid({"adjustBy": 1, "reason": ""})
