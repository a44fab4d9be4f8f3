"""``Idempotency-Key`` support for POST endpoints, with Stripe's semantics.

The same key from the same user within 24 h replays the first response and does nothing again;
the same key with another body is 422 ``idempotency_key_reused``; the same key while the first
request still runs is 409 ``request_in_progress``. Only successful responses are kept: a request
that failed changed nothing, so a retry with the same key runs again.
"""

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from ecommerce.errors import Conflict, DomainError
from ecommerce.models import IdempotencyRecord

MAX_KEY_LENGTH = 255
# A request still "running" after this long died with its worker; its key may be used again.
ABANDONED_AFTER = timedelta(minutes=5)

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Makes retries safe: the same key (at most 255 characters) from the same user within 24 h "
    "returns the first response and does nothing again. A replay answers 200 instead of 201 and carries "
    "`Idempotent-Replayed: true`.",
)


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was used with a different request body."


class RequestInProgress(Conflict):
    code = "request_in_progress"
    default_message = "A request with this Idempotency-Key is still being processed."


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    default_message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters."


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path.rstrip('/')} {body}".encode()).hexdigest()


def _claim(*, user_id: int, scope: str, key: str, fingerprint: str) -> IdempotencyRecord | Response:
    """Insert the in-progress record, or return the replay of an earlier one."""
    now = timezone.now()
    expired_before = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    with transaction.atomic():
        existing = IdempotencyRecord.objects.select_for_update().filter(user_id=user_id, scope=scope, key=key).first()
        if existing is not None:
            stale = existing.created_at < expired_before or (
                not existing.completed and existing.created_at < now - ABANDONED_AFTER
            )
            if not stale:
                if existing.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                if not existing.completed:
                    raise RequestInProgress()
                replay_status = 200 if existing.response_status == 201 else existing.response_status
                return Response(existing.response_body, status=replay_status, headers={"Idempotent-Replayed": "true"})
            existing.delete()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(user_id=user_id, scope=scope, key=key, fingerprint=fingerprint)
        except IntegrityError as exc:  # a concurrent request with the same key inserted first
            raise RequestInProgress() from exc


def purge_expired_records() -> int:
    """Delete the remembered responses older than the key lifetime (24 h); returns how many."""
    expired_before = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=expired_before).delete()
    return deleted


def idempotent(scope: str):
    """Decorate an APIView method so that its responses are replayed for a repeated ``Idempotency-Key``."""

    def decorator(view_method):
        @functools.wraps(view_method)
        def wrapper(view, request, *args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return view_method(view, request, *args, **kwargs)
            if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
                raise InvalidIdempotencyKey(attr="Idempotency-Key")
            claimed = _claim(user_id=request.user.id, scope=scope, key=key, fingerprint=_fingerprint(request))
            if isinstance(claimed, Response):
                return claimed
            try:
                response = view_method(view, request, *args, **kwargs)
            except Exception:
                claimed.delete()
                raise
            if not 200 <= response.status_code < 300:
                claimed.delete()
            else:
                claimed.completed = True
                claimed.response_status = response.status_code
                claimed.response_body = response.data
                claimed.save(update_fields=["completed", "response_status", "response_body"])
            return response

        return wrapper

    return decorator
