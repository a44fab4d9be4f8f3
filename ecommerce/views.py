"""Operator endpoints of the kernel, and the answers to requests that failed outside a DRF view."""

import mimetypes
import sys

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import DatabaseError, connections
from django.http import FileResponse, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ecommerce.api import DatabaseUnavailable
from ecommerce.db import DATABASE_OUTAGES


class HealthView(APIView):
    """Liveness and database reachability, for load balancers and monitors."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="health",
        summary="Health check",
        description="Whether the shop is up and its database reachable (503 if not). No account is needed.",
        responses={
            (200, "application/json"): inline_serializer(
                "Health", {"status": serializers.CharField(), "database": serializers.CharField()}
            ),
            (503, "application/json"): inline_serializer(
                "HealthDown", {"status": serializers.CharField(), "database": serializers.CharField()}
            ),
        },
    )
    def get(self, request):
        try:
            for alias in connections:  # every app's database, where APP_DATABASES gives them their own
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT 1")
        except DatabaseError:
            return Response({"status": "unavailable", "database": "unreachable"}, status=503)
        return Response({"status": "ok", "database": "ok"})


class PingView(APIView):
    """A trivial DRF endpoint (no auth, no database): the framework's ceiling in ``make bench``."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request):
        return Response({"ok": True})


def plain_ping(request) -> JsonResponse:
    """The same answer as PingView from a plain Django view: what the framework floor is compared with."""
    return JsonResponse({"ok": True})


MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})  # what the shop stores: product pictures


@require_safe
def media(request, path: str) -> HttpResponse:
    """A picture from the default storage, at MEDIA_URL (``SERVE_MEDIA``), for a shop with no front server or CDN.

    A stored name never gets other content (every upload has a new name), so clients may keep a file for a year.
    """
    content_type, _ = mimetypes.guess_type(path)
    if content_type not in MEDIA_TYPES:
        return not_found(request)
    try:
        file = default_storage.open(path)
    except (OSError, SuspiciousFileOperation, ValueError):  # missing, a directory, outside the storage, a NUL
        return not_found(request)
    response = FileResponse(file, content_type=content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _error_envelope(status: int, error_type: str, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"type": error_type, "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status)


HTML_PATH_PREFIXES = ("/shop/", "/admin/")  # pages for people; everything else is the JSON API


def _wants_html(request) -> bool:
    return request.path.startswith(HTML_PATH_PREFIXES)


def not_found(request, exception=None) -> HttpResponse:
    """Unknown paths answer in the API's error envelope, or as an HTML page under the shop and the admin."""
    if _wants_html(request):
        return HttpResponse(render_to_string("404.html"), status=404)
    return _error_envelope(404, "client_error", "not_found", "Not found.")


def server_error(request) -> HttpResponse:
    """A crash answers in the API's error envelope, or as a plain HTML page (no database needed) for people.

    An unreachable database is 503 with Retry-After rather than 500. Django calls this while the
    exception is being handled, so it is still ``sys.exc_info()``.
    """
    if isinstance(sys.exc_info()[1], DATABASE_OUTAGES):
        if _wants_html(request):
            response = HttpResponse(render_to_string("503.html"), status=503)
        else:
            error = DatabaseUnavailable()
            response = _error_envelope(503, "server_error", error.default_code, str(error.detail))
        response["Retry-After"] = str(settings.DATABASE_RETRY_AFTER_SECONDS)
        return response
    if _wants_html(request):
        return HttpResponse(render_to_string("500.html"), status=500)
    return _error_envelope(500, "server_error", "error", "Server Error (500)")
