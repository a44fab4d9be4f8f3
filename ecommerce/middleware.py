"""One log line per request, tagged with a request id that is echoed back to the client."""

import logging
import re
import time
import uuid

from ecommerce.logs import current_request_id, escape_for_log

logger = logging.getLogger("ecommerce.request")
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = current_request_id.set(request.request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        duration_ms = (time.perf_counter() - started) * 1000
        response["X-Request-ID"] = request.request_id
        logger.info(
            "%s %s %s %.1fms request_id=%s",
            escape_for_log(request.method),
            escape_for_log(request.path),
            response.status_code,
            duration_ms,
            request.request_id,
        )
        return response
