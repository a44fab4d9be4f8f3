"""The API's JSON renderer and content negotiation: the library's output, reached with less work per request."""

from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from djangorestframework_camel_case.util import camelize as library_camelize

from ecommerce.renderers import CamelCaseJSONRenderer, camelize

NESTED = {
    "unit_price": Decimal("1.50"),
    "line_items": [{"product_id": 1, "line_total": "3.00", "tags": ("a_b", "c")}],
    "already_camelCase": None,
    "with_2_digits": 2,
    "_leading": True,
    3: "int key",
    gettext_lazy("lazy_key"): gettext_lazy("lazy value"),
    "nested": {"deeper_still": {"deepest_key": []}},
}


def test_camelize_renames_keys_as_the_library_does():
    assert camelize(NESTED) == library_camelize(NESTED)


def test_the_renderer_writes_what_the_library_renderer_writes():
    from djangorestframework_camel_case.render import CamelCaseJSONRenderer as LibraryRenderer

    assert CamelCaseJSONRenderer().render(NESTED) == LibraryRenderer().render(NESTED)


@pytest.mark.django_db
@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json; indent=2", "text/*, */*"])
def test_json_is_served_whatever_json_compatible_accept_header(anon_client, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = anon_client.get("/health", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_an_accept_header_the_api_cannot_meet_is_406(anon_client):
    response = anon_client.get("/health", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["errors"][0]["code"] == "not_acceptable"


@pytest.mark.django_db
def test_an_unknown_format_override_is_404(anon_client):
    assert anon_client.get("/health?format=xml").status_code == 404


@pytest.mark.parametrize("media_type", ["application/json", "application/json; indent=2", None])
def test_the_renderer_writes_what_the_library_renderer_writes_for_any_media_type(media_type):
    from djangorestframework_camel_case.render import CamelCaseJSONRenderer as LibraryRenderer

    data = {**NESTED, "line_separator": "a\u2028b\u2029c", "unicode_text": "Ünïcode ☕"}
    ours = CamelCaseJSONRenderer().render(data, media_type, {})
    assert ours == LibraryRenderer().render(data, media_type, {})
