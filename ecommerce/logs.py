"""Log lines that a client cannot forge, and the security event log.

Anything a client sent (a path, an email) is escaped before it is logged, so that a ``%0a`` in a URL
cannot start a fake line. Security events go to the ``ecommerce.security`` logger as one line each,
``security event=<name> key=value ... request_id=<id>``, tagged with the id of the request that caused them.
"""

import logging
from contextvars import ContextVar

security_logger = logging.getLogger("ecommerce.security")
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")


def escape_for_log(value: object) -> str:
    """``value`` as printable ASCII: control characters, quotes and non-ASCII become escapes (``\\n``, ``\\x1b``)."""
    text = str(value)
    if text.isascii() and text.isprintable() and " " not in text:
        return text
    return text.encode("unicode_escape").decode("ascii").replace(" ", "\\x20")


def log_security_event(event: str, *, level: int = logging.WARNING, **fields: object) -> None:
    """Write one security event (failed login, lockout, token reuse...) with the current request's id."""
    details = " ".join(f"{name}={escape_for_log(value)}" for name, value in fields.items())
    security_logger.log(level, "security event=%s %s request_id=%s", event, details, current_request_id.get())
