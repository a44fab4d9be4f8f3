"""Domain errors: the one base every app's errors subclass.

Services raise these; the DRF exception handler in ``ecommerce.api`` renders them
in the standard error envelope. Nothing here knows about HTTP frameworks.
"""

from typing import ClassVar


class DomainError(Exception):
    """A business rule refused the request.

    ``status`` is the HTTP status an API should answer with, ``code`` a stable,
    machine-readable identifier, ``attr`` the input field at fault (if any).
    """

    status: int = 400
    code: str = "invalid"
    default_message: str = "The request could not be processed."
    # Members this error adds to its entry in the error body besides code, detail and attr, for the API
    # documentation: snake_case name -> JSON Schema of the value (with a "description").
    extra_fields: ClassVar[dict[str, dict]] = {}

    def __init__(self, message: str | None = None, *, attr: str | None = None, extra: dict | None = None):
        self.message = message or self.default_message
        self.attr = attr
        self.extra = extra or {}
        super().__init__(self.message)


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."
