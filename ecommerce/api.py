"""The DRF side of the kernel: domain errors rendered in the standard error envelope."""

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from djangorestframework_camel_case.util import camelize_re, underscore_to_camel
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, serializers, status

from ecommerce.errors import DomainError


class DomainAPIException(exceptions.APIException):
    """A DomainError carried through DRF, keeping its status, code and field."""

    def __init__(self, error: DomainError):
        self.status_code = error.status
        self.error = error
        if error.attr:
            detail = {error.attr: [exceptions.ErrorDetail(error.message, code=error.code)]}
        else:
            detail = error.message
        super().__init__(detail=detail, code=error.code)


class DomainValidationError(exceptions.ValidationError, DomainAPIException):
    """A 400 DomainError is a validation error: its ``attr`` names the field."""

    def __init__(self, error: DomainError):
        DomainAPIException.__init__(self, error)


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


class DomainAwareExceptionHandler(ExceptionHandler):
    """drf-standardized-errors' handler, taught about DomainError and Django's refusals of a request."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return DomainValidationError(exc) if exc.status == status.HTTP_400_BAD_REQUEST else DomainAPIException(exc)
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, SuspiciousOperation):
            return exceptions.ParseError("The request is malformed.")
        return super().convert_known_exceptions(exc)

    def get_headers(self, exc: exceptions.APIException) -> dict:
        headers = super().get_headers(exc)
        retry_after = getattr(getattr(exc, "error", None), "extra", {}).get("retry_after")
        if retry_after:
            headers["Retry-After"] = str(retry_after)
        return headers


class CamelCaseExceptionFormatter(ExceptionFormatter):
    """Names fields in ``attr`` the way clients spell them (camelCase), and adds domain details."""

    def format_error_response(self, error_response) -> dict:
        data = super().format_error_response(error_response)
        for error in data["errors"]:
            if error.get("attr"):
                error["attr"] = camelize_re.sub(underscore_to_camel, error["attr"])
        domain_error = getattr(self.exc, "error", None)
        if domain_error is not None and domain_error.extra:
            data["errors"][0].update({k: v for k, v in domain_error.extra.items() if k != "retry_after"})
        return data


class DomainErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, listed in the response description.")
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class DomainErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["client_error", "server_error", "validation_error"])
    errors = DomainErrorDetailSerializer(many=True)


RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[status.HTTP_429_TOO_MANY_REQUESTS],
    description="Seconds to wait before trying again.",
)


def error_responses(*errors: type[DomainError], throttled: bool = False) -> dict[int, OpenApiResponse]:
    """OpenAPI responses documenting the domain errors a view may answer with, grouped by status.

    ``throttled``: the view is rate-limited too, so its 429 also lists DRF's ``throttled`` code (pair it
    with ``RETRY_AFTER_HEADER`` in the view's parameters).
    """
    codes_by_status: dict[int, list[str]] = {status.HTTP_429_TOO_MANY_REQUESTS: ["throttled"]} if throttled else {}
    for error in errors:
        codes_by_status.setdefault(error.status, []).append(error.code)
    responses = {}
    for status_code, codes in sorted(codes_by_status.items()):
        description = "Error codes: " + ", ".join(f"`{code}`" for code in codes)
        if status_code == status.HTTP_400_BAD_REQUEST:
            description = "Invalid input (`attr` names the field). " + description
        responses[status_code] = OpenApiResponse(DomainErrorResponseSerializer, description=description)
    return responses


def staff_permission_responses(*permissions: str) -> dict[int, OpenApiResponse]:
    """The OpenAPI 403 of a staff write needing ``permissions`` (Django model permissions, from the token)."""
    needed = ", ".join(f"`{permission}`" for permission in permissions)
    description = (
        "Error codes: `permission_denied` (the caller is not staff), `missing_permission` (a staff role "
        f"without {needed}; superusers have every permission)."
    )
    return {status.HTTP_403_FORBIDDEN: OpenApiResponse(DomainErrorResponseSerializer, description=description)}
