"""OpenAPI schema generation: component names, the exact errors of every operation, headers and paths."""

import re
from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser
from djangorestframework_camel_case.util import camel_to_underscore, camelize_re, underscore_to_camel
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from drf_standardized_errors.openapi_utils import get_flat_serializer_fields, get_serializer_fields_with_error_codes
from rest_framework import serializers

from ecommerce.api import DocumentedErrors, ErrorCode
from ecommerce.serializers import MoneyInputField, StrictSerializer, text_pattern

PATH_ID_PATTERN = "^[0-9]{1,18}$"
MAX_PATH_ID = 10**18 - 1

# What each status means to a client, before the list of its codes.
STATUS_MEANINGS = {
    400: "Invalid input: `attr` names the field at fault (camelCase), or is null for the body as a whole.",
    401: "Missing, invalid or expired credentials.",
    402: "The card was refused.",
    403: "Your account may not do this (staff only).",
    404: "Not found (an unknown id, someone else's object, or a page past the end).",
    406: "The `Accept` header asks for something other than JSON.",
    409: "The request conflicts with the current state.",
    413: "The request body is larger than 1 MiB.",
    415: "The body is not JSON (`Content-Type: application/json`).",
    422: "The request cannot be processed as sent.",
    429: "Too many requests: wait the number of seconds in `Retry-After`.",
    500: "An unexpected error on our side; it is logged with the request id.",
    503: "A service we depend on is unavailable; try again later.",
}

# Errors the authentication of a request answers with when a token is sent and refused (token_revoked: the
# user was deactivated, their rights changed or their sessions were ended since the token was issued).
TOKEN_ERRORS = (
    ErrorCode(401, "token_not_valid"),
    ErrorCode(401, "token_revoked"),
    ErrorCode(401, "bad_authorization_header"),
)


def _camel(name: str) -> str:
    return camelize_re.sub(underscore_to_camel, name)


BLANK_STRING = {"type": "string", "maxLength": 0}  # the alternative drf-spectacular adds for ``allow_blank``


class AutoSchema(SpectacularAutoSchema):
    """Documents every operation with exactly the errors it can answer.

    Views declare their own errors with ``ecommerce.api.error_responses``; this class adds the ones every
    operation of the kind answers: invalid body or query (with the codes of its serializer's fields),
    authentication, permission, pagination and throttling errors, 406, 413, 415 and 500.
    """

    # --- Names ---------------------------------------------------------------------------------------

    def get_serializer_name(self, serializer, direction) -> str:
        """Names a nested serializer after its view: ``CheckoutView.OutputSerializer`` -> ``CheckoutOutput``."""
        outer, _, name = type(serializer).__qualname__.rpartition(".")
        if not outer or "<locals>" in outer:
            return name
        return outer.rpartition(".")[2].removesuffix("View") + name.removesuffix("Serializer")

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if not vars(type(serializer)).get("__doc__"):
            schema.pop("description", None)  # a docstring inherited from a base class is about the base
        serializer = force_instance(serializer)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            if not serializer.unknown_fields_ignored:
                schema["additionalProperties"] = False  # unknown fields are refused (400 unknown_field)
            if serializer.shapes:
                schema["oneOf"] = [
                    {"required": [_camel(name) for name in shape]} if shape else {"maxProperties": 0}
                    for shape in serializer.shapes
                ]
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, MoneyInputField):
            schema["pattern"] = field.pattern  # the bounds too: a string has no minimum
        elif direction == "request" and isinstance(field, serializers.CharField) and "format" not in schema:
            schema["pattern"] = text_pattern(field)  # what DRF and our validators refuse (NUL, blank...)
        return schema

    def _insert_field_validators(self, field, schema):
        """As drf-spectacular, without the blank alternative it adds beside a pattern when our pattern takes blank.

        With both, an empty string matches the two branches of its ``oneOf`` and is therefore invalid.
        """
        super()._insert_field_validators(field, schema)
        if not isinstance(field, serializers.CharField) or schema.get("oneOf", [None])[-1:] != [BLANK_STRING]:
            return
        inner = schema["oneOf"][0]
        if len(schema["oneOf"]) == 2 and inner.get("pattern") == text_pattern(field) and re.match(inner["pattern"], ""):
            del schema["oneOf"]
            schema.update(inner)

    def _get_request_body(self, direction="request"):
        """Also the body of a DELETE whose view asks for one (``delete_takes_body``: a confirmation)."""
        if self.method != "DELETE" or not getattr(self.view, "delete_takes_body", False):
            return super()._get_request_body(direction)
        self.method = "POST"  # drf-spectacular documents bodies of POST, PUT and PATCH only
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = self._request_for_media_type(serializer, direction)
        shapes = getattr(force_instance(serializer), "shapes", ())
        return schema, required or (bool(shapes) and () not in shapes)  # no shape is an empty body

    def _request_for_media_type(self, serializer, direction):
        if self.method != "PATCH" or getattr(self.view, "patch_is_partial", False):
            return super()._get_request_for_media_type(serializer, direction)
        # This PATCH validates its body in full (e.g. `{quantity}` of a cart line): document it as such.
        self.method = "PUT"
        try:
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = "PATCH"

    # --- Security: public operations show no lock ---------------------------------------------------

    def get_auth(self):
        if self._allows(AnonymousUser()):
            return []
        return [auth for auth in super().get_auth() if auth]

    def _allows(self, user) -> bool:
        """Whether the view's permissions let ``user`` call this operation."""
        request = SimpleNamespace(method=self.method, user=user, auth=None)
        for permission in self.view.get_permissions():
            try:
                if not permission.has_permission(request, self.view):
                    return False
            except Exception:  # a permission that needs more of the request than a probe has: it may refuse
                return False
        return True

    def _get_paginator(self):
        paginator = super()._get_paginator()
        if paginator is not None:
            paginator.documented_path = self.path.rstrip("/")
        return paginator

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] == "query":
                parameter["allowEmptyValue"] = True  # a blank value counts as absent (serializers.query_params)
        return parameters

    # --- Path ids are integers ------------------------------------------------------------------------

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("pattern") == PATH_ID_PATTERN:
                if parameter["name"] == "id":  # the view's own object (``pk``)
                    parameter["name"] = getattr(self.view, "path_id_name", "id")
                    description = getattr(self.view, "path_id_description", "")
                else:  # a second id, e.g. ``image_id`` -> ``imageId``
                    description = getattr(self.view, "path_parameter_descriptions", {}).get(parameter["name"], "")
                    parameter["name"] = _camel(parameter["name"])
                parameter["schema"] = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_PATH_ID}
                if description:
                    parameter["description"] = description
                parameter["example"] = 1
        return parameters

    # --- Errors ---------------------------------------------------------------------------------------

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        if isinstance(serializer, DocumentedErrors):
            self._declared_errors[int(status_code)] = serializer
            return {}  # replaced in _get_response_bodies, once every error of the status is known
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def _get_response_bodies(self, direction="response"):
        self._declared_errors: dict[int, DocumentedErrors] = {}
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        by_status: dict[int, list[ErrorCode]] = {}
        descriptions = {}
        for status_code, documented in self._declared_errors.items():
            by_status.setdefault(status_code, []).extend(documented.errors)
            descriptions[status_code] = documented.description
        for error in self._generic_errors():
            by_status.setdefault(error.status, []).append(error)
        for status_code, errors in by_status.items():
            responses[str(status_code)] = self._error_response(status_code, errors, descriptions.get(status_code, ""))
        return dict(sorted(responses.items()))

    def _generic_errors(self) -> list[ErrorCode]:
        errors = [ErrorCode(406, "not_acceptable"), ErrorCode(500, "error"), ErrorCode(503, "database_unavailable")]
        takes_body = self.method in ("POST", "PUT", "PATCH") or (
            self.method == "DELETE" and getattr(self.view, "delete_takes_body", False)
        )
        if takes_body and self._has_request_body():
            errors.append(ErrorCode(413, "request_too_large"))
            if not getattr(self.view, "reads_raw_body", False):
                errors += [ErrorCode(400, "parse_error"), ErrorCode(415, "unsupported_media_type")]
                errors += self._validation_errors(self.get_request_serializer())
        query_serializer = getattr(self.view, "FilterSerializer", None)
        if self.method == "GET" and query_serializer is not None:
            errors += self._validation_errors(query_serializer)
        if self.view.get_authenticators():
            errors += TOKEN_ERRORS
            if not self._allows(AnonymousUser()):
                errors.append(ErrorCode(401, "not_authenticated"))
            customer = SimpleNamespace(is_authenticated=True, is_staff=False, is_anonymous=False, id=1, pk=1)
            if not self._allows(customer):
                errors.append(ErrorCode(403, "permission_denied"))
        paginated = self.method == "GET" and self._is_list_view() and self._get_paginator()
        if paginated:
            errors.append(ErrorCode(400, "invalid"))  # a `pageSize` that is not a whole number from 1
        if any(p["in"] == "path" for p in self._get_parameters()) or paginated:
            errors.append(ErrorCode(404, "not_found"))
        if any(throttle.applies_to(self.method) for throttle in self.view.get_throttles()):
            errors.append(ErrorCode(429, "throttled"))
        return errors

    def _has_request_body(self) -> bool:
        serializer = self.get_request_serializer()
        return serializer is not None

    def _validation_errors(self, serializer) -> list[ErrorCode]:
        serializer = serializer() if isinstance(serializer, type) else serializer
        if not isinstance(serializer, serializers.Serializer):
            return []
        codes = {"invalid"}
        for field in get_serializer_fields_with_error_codes(get_flat_serializer_fields(serializer)):
            codes.update(field.error_codes)
        if isinstance(serializer, StrictSerializer) and not serializer.unknown_fields_ignored:
            codes.add("unknown_field")
        return [ErrorCode(400, code) for code in sorted(codes)]

    def _error_response(self, status_code: int, errors: list[ErrorCode], description: str) -> dict:
        unique = list({error.code: error for error in errors}.values())
        codes = ", ".join(f"`{error.code}`" for error in unique)
        meaning = description or STATUS_MEANINGS.get(status_code, "")
        return {
            "content": {"application/json": {"schema": self._envelope(unique)}},
            "description": f"{meaning} Error codes: {codes}.".strip(),
        }

    def _envelope(self, errors: list[ErrorCode]) -> dict:
        plain = [error.code for error in errors if not error.extra_fields]
        items = [_error_item(plain)] if plain else []
        for error in errors:
            if error.extra_fields:
                items.append(self._error_component(error))
        return {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": sorted({error.type for error in errors})},
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": items[0] if len(items) == 1 else {"oneOf": items},
                },
            },
            "required": ["type", "errors"],
        }

    def _error_component(self, error: ErrorCode) -> dict:
        """A named schema for an error that carries members of its own (e.g. ``insufficient_stock``)."""
        component = ResolvedComponent(
            name=error.component,
            type=ResolvedComponent.SCHEMA,
            object=error.component,
            schema=_error_item([error.code], error.extra_fields),
        )
        self.registry.register_on_missing(component)
        return component.ref


def _error_item(codes: list[str], extra_fields=None) -> dict:
    """The schema of one entry of ``errors``: one of ``codes``, the message, the field at fault, and extras."""
    return {
        "type": "object",
        "properties": {
            "code": {"type": "string", "enum": codes},
            "detail": {"type": "string", "description": "A message for people; may change."},
            "attr": {"type": "string", "nullable": True, "description": "The field at fault, if any."},
            **{_camel(name): schema for name, schema in (extra_fields or {}).items()},
        },
        "required": ["code", "detail", "attr"],
    }


def strip_trailing_slashes(result, generator, request, public):
    """Document each path in its canonical form, without the optional trailing slash, named after its id."""
    paths = {}
    for path, item in result["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path" or parameter["name"] == "id":
                    continue
                snake = "{" + camel_to_underscore(parameter["name"]) + "}"
                path = path.replace(snake if snake in path else "{id}", "{" + parameter["name"] + "}")
        paths[path.rstrip("/") or "/"] = item
    result["paths"] = paths
    return result


RESPONSE_HEADERS = {
    "X-Request-ID": {
        "description": "The request's id (yours, if you sent a valid `X-Request-ID`), as our logs record it.",
        "schema": {"type": "string"},
        "required": True,
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again, when known.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same "
        "`Idempotency-Key` (nothing was done again).",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def document_response_headers(result, generator, request, public):
    """Declare the headers responses carry: X-Request-ID on all, Retry-After on 429 and 503, and
    Idempotent-Replayed on the replayed 200 of operations that take an ``Idempotency-Key``."""
    result.setdefault("components", {})["headers"] = RESPONSE_HEADERS
    for item in result["paths"].values():
        for operation in item.values():
            idempotent = any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
            for status_code, response in operation["responses"].items():
                headers = response.setdefault("headers", {})
                names = ["X-Request-ID"]
                if status_code in ("429", "503") or (idempotent and status_code == "409"):
                    names.append("Retry-After")  # on 409: request_in_progress, payment_in_progress
                if idempotent and status_code == "200":
                    names.append("Idempotent-Replayed")
                for name in names:
                    headers[name] = {"$ref": f"#/components/headers/{name}"}
    return result


def nullable_references(result, generator, request, public):
    """Make a nullable reference accept null for validators too.

    OpenAPI 3.0 has no null type: ``{nullable: true, allOf: [{$ref}]}`` still requires the referenced
    object, so it becomes ``anyOf: [{$ref}, null]``.
    """

    def rewrite(node):
        if isinstance(node, dict):
            refs = node.get("allOf")
            if node.get("nullable") is True and isinstance(refs, list) and len(refs) == 1 and "$ref" in refs[0]:
                node.pop("allOf"), node.pop("nullable")
                node["anyOf"] = [refs[0], {"type": "object", "nullable": True, "enum": [None]}]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(result)
    return result
