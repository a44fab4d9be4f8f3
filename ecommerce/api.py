"""The DRF side of the kernel: domain errors rendered in the standard error envelope."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from djangorestframework_camel_case.util import camelize_re, underscore_to_camel
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, status

from ecommerce.db import DATABASE_OUTAGES
from ecommerce.errors import DomainError

logger = logging.getLogger(__name__)


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


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_unavailable"
    default_detail = "The service is briefly unavailable (database unreachable). Retry after Retry-After seconds."

    def __init__(self):
        super().__init__()
        self.wait = settings.DATABASE_RETRY_AFTER_SECONDS


class DomainAwareExceptionHandler(ExceptionHandler):
    """drf-standardized-errors' handler, taught about DomainError and Django's refusals of a request."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return DomainValidationError(exc) if exc.status == status.HTTP_400_BAD_REQUEST else DomainAPIException(exc)
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, SuspiciousOperation):
            return exceptions.ParseError("The request is malformed.")
        if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
            # simplejwt's errors carry {detail, code, messages}: one error with that code, not one per key.
            detail, code = (str(exc.detail.get(key, "")) for key in ("detail", "code"))
            single = exceptions.AuthenticationFailed(detail or None, code=code or None)
            single.auth_header = getattr(exc, "auth_header", None)
            return single
        if isinstance(exc, DATABASE_OUTAGES):
            logger.warning("Database unavailable: answering 503 (%s: %s)", type(exc).__name__, exc)
            return DatabaseUnavailable()
        return super().convert_known_exceptions(exc)

    def report_exception(self, exc: exceptions.APIException, response) -> None:
        if not isinstance(exc, DatabaseUnavailable):  # an outage is logged above as a warning, not a bug report
            super().report_exception(exc, response)

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


@dataclass(frozen=True)
class ErrorCode:
    """One error an operation may answer with, as the API documentation shows it."""

    status: int
    code: str
    # Members this error adds besides code, detail and attr (snake_case name -> JSON Schema), and the name
    # of the schema component that documents an error carrying them.
    extra_fields: Mapping[str, dict] = field(default_factory=dict)
    component: str = ""

    @classmethod
    def of(cls, error: type[DomainError]) -> "ErrorCode":
        component = f"{error.__name__.removesuffix('Error')}Error" if error.extra_fields else ""
        return cls(error.status, error.code, error.extra_fields, component)

    @property
    def type(self) -> str:
        """The envelope's ``type`` for this error."""
        if self.status >= 500:
            return "server_error"
        if self.status == 400 and self.code != "parse_error":
            return "validation_error"
        return "client_error"


@dataclass(frozen=True)
class DocumentedErrors:
    """The errors of one status a view declares in ``extend_schema(responses=...)``; see ``error_responses``."""

    errors: tuple[ErrorCode, ...]
    description: str = ""


def error_responses(*errors: type[DomainError] | ErrorCode, description: str = "") -> dict[int, DocumentedErrors]:
    """The errors an operation answers with, by status, for ``extend_schema(responses={...})``.

    ``ecommerce.schema.AutoSchema`` documents each status with exactly these codes, together with the errors
    every operation of its kind may answer (invalid input, authentication, permission, pagination, throttling).
    """
    by_status: dict[int, list[ErrorCode]] = {}
    for error in errors:
        documented = error if isinstance(error, ErrorCode) else ErrorCode.of(error)
        by_status.setdefault(documented.status, []).append(documented)
    return {status_code: DocumentedErrors(tuple(codes), description) for status_code, codes in by_status.items()}


def staff_permission_responses(*permissions: str) -> dict[int, DocumentedErrors]:
    """The 403 of a staff operation needing ``permissions`` (Django model permissions, from the token)."""
    needed = ", ".join(f"`{permission}`" for permission in permissions)
    return error_responses(
        ErrorCode(403, "permission_denied"),
        ErrorCode(403, "missing_permission"),
        description=f"`permission_denied`: you are not staff; `missing_permission`: your staff role lacks {needed} "
        "(superusers have every permission).",
    )
