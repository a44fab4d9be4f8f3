"""``Idempotency-Key`` support for POST endpoints, with Stripe's semantics, surviving crashes.

The same key from the same user within 24 h replays the first response and does nothing again;
the same key with another body is 422 ``idempotency_key_reused``; the same key while the first
request still runs is 409 ``request_in_progress`` with ``Retry-After``. Only successful responses are
kept: a request that failed changed nothing, so a retry with the same key runs again.

How a key survives a worker killed mid-request or a database that went away:

- the claim is a row holding the key for one attempt (``owner``) until ``locked_until`` (a short
  lease, ``IDEMPOTENCY_LEASE_SECONDS``). A retry that finds the lease over takes the key over (a new
  owner) and runs again: a dead attempt blocks its key for seconds, not minutes;
- an attempt records its response only while it still owns the key (compare-and-set on ``owner``).
  The work itself cannot be one transaction with that record (it commits in the databases of several
  apps), so a service behind a key must be safe to run again: checkout resumes the same checkout for the
  same key, payments are one per order and per key;
- a failed attempt gives its key back at once. After a database error it does so on a connection of
  its own, never on the one that just broke; if the database is down, the lease runs out instead.
"""

import functools
import hashlib
import json
import logging
import math
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError
from django.http import JsonResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from ecommerce.db import atomic, execute_on_fresh_connection
from ecommerce.errors import Conflict, DomainError
from ecommerce.models import IdempotencyRecord
from ecommerce.throttling import throttle_new_attempt

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    type={"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[\\x20-\\x7e]+$"},
    location=OpenApiParameter.HEADER,
    required=False,
    description="Makes retries safe: the same key (at most 255 characters) from the same user within 24 h "
    "returns the first response and does nothing again. A replay answers 200 instead of 201 and carries "
    "`Idempotent-Replayed: true`. While the first request runs, the key answers 409 `request_in_progress` "
    "with `Retry-After`; a request whose worker died gives its key back within `Retry-After` seconds.",
)


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was used with a different request body."


class RequestInProgress(Conflict):
    code = "request_in_progress"
    default_message = "A request with this Idempotency-Key is still being processed. Retry after Retry-After seconds."


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    default_message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters."


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path.rstrip('/')} {body}".encode()).hexdigest()


def _in_progress(locked_until) -> RequestInProgress:
    wait = (locked_until - timezone.now()).total_seconds()
    return RequestInProgress(extra={"retry_after": max(1, math.ceil(wait))})


def _claim(*, user_id: int, scope: str, key: str, fingerprint: str) -> IdempotencyRecord | Response:
    """Hold the key for a new attempt, or return the replay of an earlier attempt's response.

    A record whose lease ran out (its attempt died or was slow) is taken over. Raises
    IdempotencyKeyReused, RequestInProgress.
    """
    now = timezone.now()
    expired_before = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    lease_end = now + timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
    lease = {"owner": secrets.token_hex(16), "locked_until": lease_end}
    with atomic("ecommerce"):
        existing = IdempotencyRecord.objects.select_for_update().filter(user_id=user_id, scope=scope, key=key).first()
        if existing is not None and existing.created_at < expired_before:
            existing.delete()
            existing = None
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if existing.completed:
                replay_status = 200 if existing.response_status == 201 else existing.response_status
                return Response(existing.response_body, status=replay_status, headers={"Idempotent-Replayed": "true"})
            if existing.locked_until is not None and existing.locked_until > now:
                raise _in_progress(existing.locked_until)
            logger.warning("Taking over Idempotency-Key %r of user %s: its attempt did not finish.", key, user_id)
            for field, value in lease.items():
                setattr(existing, field, value)
            existing.save(update_fields=list(lease))
            return existing
        try:
            with atomic("ecommerce"):
                return IdempotencyRecord.objects.create(
                    user_id=user_id, scope=scope, key=key, fingerprint=fingerprint, **lease
                )
        except IntegrityError as exc:  # a concurrent request with the same key inserted first
            raise _in_progress(lease["locked_until"]) from exc


def _record_response(claim: IdempotencyRecord, response: Response) -> bool:
    """Remember a successful response, if the attempt still owns its key (else a retry took it over)."""
    return bool(
        IdempotencyRecord.objects.filter(pk=claim.pk, owner=claim.owner, completed=False).update(
            completed=True, response_status=response.status_code, response_body=response.data, locked_until=None
        )
    )


def _release(claim: IdempotencyRecord, error: Exception | None = None) -> None:
    """Give the key back after a failed attempt, so that a retry runs again at once.

    After a database error the connection may be broken: a connection of its own is used. If the
    database cannot be reached, the claim's lease runs out instead.
    """
    connection_lost = isinstance(error, DatabaseError) and not isinstance(error, IntegrityError | DataError)
    if not connection_lost:
        try:
            IdempotencyRecord.objects.filter(pk=claim.pk, owner=claim.owner, completed=False).delete()
        except DatabaseError:
            logger.warning("Could not release Idempotency-Key %r; its lease will run out.", claim.key, exc_info=True)
        return
    execute_on_fresh_connection(
        IdempotencyRecord,
        f"DELETE FROM {IdempotencyRecord._meta.db_table} WHERE id = %s AND owner = %s AND NOT completed",  # noqa: S608
        [claim.pk, claim.owner],
    )


def purge_expired_records() -> int:
    """Delete the remembered responses older than the key lifetime (24 h); returns how many."""
    expired_before = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=expired_before).delete()
    return deleted


def idempotent(scope: str):
    """Decorate an APIView method so that its responses are replayed for a repeated ``Idempotency-Key``.

    The method must be safe to run again for the same key (a retry after a crash or a lease that ran out).
    A request that is no replay is counted by the view's throttles here (NewAttemptThrottle): a replay never is.
    """

    def decorator(view_method):
        @functools.wraps(view_method)
        def wrapper(view, request, *args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return view_method(view, request, *args, **kwargs)
            if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
                raise InvalidIdempotencyKey(attr="Idempotency-Key")
            claim = _claim(user_id=request.user.id, scope=scope, key=key, fingerprint=_fingerprint(request))
            if isinstance(claim, Response):
                return claim
            try:
                throttle_new_attempt(view, request)
                response = view_method(view, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    _record_response(claim, response)
            except Exception as error:
                _release(claim, error)
                raise
            if not 200 <= response.status_code < 300:
                _release(claim)
            return response

        return wrapper

    return decorator


def remember_call(*, scope: str, key: str, fingerprint: str, run) -> JsonResponse:
    """Answer an internal call (``ecommerce.remote``) once per key: ``run()`` gives (status, body), kept if 200.

    A retry of a call that succeeded gets the first body back; one that arrives while the first still runs
    answers 409 (the caller retries); a failed call gives its key back.
    """
    if not key:
        status, body = run()
        return JsonResponse(body, status=status)
    try:
        claim = _claim(user_id=0, scope=scope, key=key, fingerprint=fingerprint)
    except DomainError as refused:
        return JsonResponse({"code": refused.code}, status=refused.status)
    if isinstance(claim, Response):
        return JsonResponse(claim.data, status=claim.status_code)
    try:
        status, body = run()
    except Exception as error:
        _release(claim, error)
        raise
    if status == 200 and "result" in body:
        _record_response(claim, Response(body, status=status))
    else:
        _release(claim)
    return JsonResponse(body, status=status)
