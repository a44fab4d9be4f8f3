"""GET /auth/me/export: the caller's data, as one JSON document."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ecommerce.throttling import FailOpenScopedRateThrottle
from privacy import services


class AccountExportSerializer(serializers.Serializer):
    """Your data, in the shapes the other endpoints answer."""

    exported_at = serializers.DateTimeField()
    profile = serializers.DictField(help_text="As `GET /auth/me`.")
    addresses = serializers.ListField(
        child=serializers.DictField(), help_text="Your address book, as `GET /auth/me/addresses`."
    )
    orders = serializers.ListField(
        child=serializers.DictField(),
        help_text="Every order, oldest first, as `GET /order/{id}` (lines, delivery address, timeline).",
    )
    payments = serializers.ListField(
        child=serializers.DictField(), help_text="Every payment attempt, oldest first, as `GET /payment`."
    )


class AccountExportView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [FailOpenScopedRateThrottle]
    throttle_scope = "auth"  # a whole account's data: not for polling

    @extend_schema(
        operation_id="auth_me_export",
        summary="Download your data",
        responses={200: AccountExportSerializer},
        description="Everything the shop keeps about you, as one JSON document: your profile, saved addresses, "
        "orders and payments. The shop's account page offers it as a file.",
    )
    def get(self, request):
        return Response(services.export_account_data(user_id=request.user.id))
