"""The one pagination style of the API: ``?page=N&pageSize=M``."""

import json
from functools import lru_cache

from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.utils.urls import remove_query_param, replace_query_param


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100
    page_query_description = "Page number, from 1."
    page_size_query_description = f"Results per page (default {page_size}, at most {max_page_size})."

    # The path of the list being documented; set by ecommerce.schema.AutoSchema for the examples.
    documented_path = "/products"

    def get_page_size(self, request) -> int:
        """The page size asked for (at most 100); 400 for one that is not a whole number from 1."""
        asked = request.query_params.get(self.page_size_query_param, "")
        if asked and not (asked.isascii() and asked.isdigit() and int(asked) >= 1):
            raise ValidationError({"pageSize": [ErrorDetail("A whole number from 1 is expected.", code="invalid")]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        url = f"https://shop.example.com{self.documented_path}?page="
        paginated["properties"]["next"]["example"] = url + "3"
        paginated["properties"]["previous"]["example"] = url + "1"
        return paginated


@lru_cache(maxsize=4096)
def page_links(url: str, page_parameter: str, number: int, has_next: bool) -> bytes:
    """``"next":...,"previous":...`` of page ``number`` of the list at ``url``, as JSON (worked out once per URL)."""
    next_link = replace_query_param(url, page_parameter, number + 1) if has_next else None
    if number <= 1:
        previous_link = None
    elif number == 2:
        previous_link = remove_query_param(url, page_parameter)
    else:
        previous_link = replace_query_param(url, page_parameter, number - 1)
    return b'"next":%s,"previous":%s' % (json.dumps(next_link).encode(), json.dumps(previous_link).encode())
