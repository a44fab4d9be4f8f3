"""/payment endpoints: paying an order, listing payments, and Stripe's webhook."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as accounts
from ecommerce.api import ErrorCode, error_responses
from ecommerce.idempotency import (
    IDEMPOTENCY_KEY_PARAMETER,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    RequestInProgress,
    idempotent,
)
from ecommerce.serializers import QueryIntegerField, StrictSerializer, amount_field, query_params, represent
from ecommerce.throttling import NewAttemptThrottle
from orders import services as orders
from orders.serializers import OrderSerializer
from payments import selectors, services
from payments.errors import (
    InvalidPaymentToken,
    InvalidWebhookPayload,
    InvalidWebhookSignature,
    PaymentAttemptsExhausted,
    PaymentInProgress,
    PaymentProviderUnavailable,
)
from payments.gateways import PUBLIC_DECLINE_CODES, TEST_DECLINES

MAX_ID = 2**63 - 1
DECLINE_ERRORS = [ErrorCode(402, code) for code in sorted({*PUBLIC_DECLINE_CODES, "authentication_required"})]
DECLINING_TEST_TOKENS = ", ".join(
    f"`tok_{card}` / `pm_card_{card}` (`{code}`)" for card, (code, _message) in TEST_DECLINES.items()
)
TOKEN_HELP = (
    "A Stripe card token or payment method. In test mode `tok_visa` and `pm_card_visa` pay; "
    f"these decline with 402 and the code shown: {DECLINING_TEST_TOKENS}."
)


class PaymentSerializer(serializers.Serializer):
    """A payment as clients see it (the card token is never shown)."""

    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    amount = amount_field()
    currency = serializers.CharField()
    status = serializers.CharField(help_text="`processing`, `succeeded`, `failed` or `refunded`.")
    provider = serializers.CharField(help_text="`stripe` or `dummy` (offline, no money moves).")
    provider_reference = serializers.CharField(help_text="The provider's id of the payment (e.g. `pi_...`), if any.")
    failure_code = serializers.CharField(help_text="Why it failed or was refunded, e.g. `card_declined`; else empty.")
    failure_message = serializers.CharField()
    created_at = serializers.DateTimeField()


class PaymentsView(GenericAPIView):
    throttle_classes = [NewAttemptThrottle]  # POST only
    throttle_scope = "payment"

    class InputSerializer(StrictSerializer):
        order_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        token = serializers.CharField(max_length=255, help_text=TOKEN_HELP)

    class OutputSerializer(serializers.Serializer):
        payment = PaymentSerializer()
        order = OrderSerializer(help_text="The order, now `paid`.")

    class FilterSerializer(serializers.Serializer):
        order_id = QueryIntegerField(min_value=1, max_value=MAX_ID, required=False)

    @extend_schema(
        operation_id="payment_list",
        summary="List payments",
        parameters=[
            OpenApiParameter(
                "orderId",
                {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID},
                description="Only the payments of this order (yours; staff with `payments.view_payment`: any). "
                "Unknown or someone else's: 404.",
            )
        ],
        responses={200: PaymentSerializer(many=True), **error_responses(orders.OrderNotFound)},
        description="Your payments, newest first, 20 a page, including declined attempts (staff with "
        "`payments.view_payment`: everyone's).",
    )
    def get(self, request):
        params = self.FilterSerializer(data=query_params(request))
        params.is_valid(raise_exception=True)
        viewer_id = None if request.user.has_perm("payments.view_payment") else request.user.id
        payments = selectors.filter_payments(viewer_id=viewer_id, order_id=params.validated_data.get("order_id"))
        page = self.paginate_queryset(payments)
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="payment_create",
        summary="Pay an order",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(
                OutputSerializer,
                description="The answer to an earlier request with the same `Idempotency-Key` "
                "(`Idempotent-Replayed: true`); nothing was charged again.",
            ),
            **error_responses(
                accounts.EmailNotVerified,
                InvalidPaymentToken,
                InvalidIdempotencyKey,
                orders.OrderNotFound,
                orders.OrderNotPayable,
                orders.AlreadyPaid,
                PaymentAttemptsExhausted,
                PaymentInProgress,
                RequestInProgress,
                IdempotencyKeyReused,
                PaymentProviderUnavailable,
            ),
            **error_responses(
                *DECLINE_ERRORS,
                description="The card was declined; the order can still be paid with another card. The attempt "
                "is listed by `GET /payment` as `failed`.",
            ),
        },
        description="Pays one of your pending orders by card, before it expires (`expiresAt`). Only an account "
        "whose email address is confirmed may pay (else 403 `email_not_verified`: follow the link we emailed, "
        "see `POST /auth/verify-email`). "
        f"{TOKEN_HELP} An unknown token is 400 `invalid_payment_token` and leaves no payment behind. "
        "If the provider does not answer or the database is briefly unavailable (503), retrying is safe: the "
        "retry settles the earlier attempt first (asking the provider) and the card is never charged twice. "
        "Send an `Idempotency-Key` to get the first answer back on a retry: replayed (200) if it was remembered, "
        "else the same payment (201) even when the first answer was lost on the way. 409 `payment_in_progress` "
        "carries `Retry-After`: the seconds until the running charge request must have ended.\n\n"
        "Limits against card testing: after `MAX_DECLINED_PAYMENTS_PER_ORDER` (5) declined attempts an order "
        "takes no more (409 `payment_attempts_exhausted`; nothing is sent to the provider; cancel it and order "
        "again), and a user makes at most `PAYMENT_THROTTLE_RATE` (10/min) attempts (429 `throttled`, "
        "`Retry-After`); replays of an `Idempotency-Key` do not count.",
        examples=[
            OpenApiExample("Visa test card", value={"orderId": 1, "token": "tok_visa"}, request_only=True),
            OpenApiExample(
                "Declined test card",
                value={"orderId": 1, "token": "tok_chargeDeclined"},
                request_only=True,
                description="Answers 402 `card_declined`; the order can still be paid.",
            ),
        ],
    )
    @idempotent("payment")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.pay_order(
            user_id=request.user.id, request_key=request.headers.get("Idempotency-Key", ""), **data.validated_data
        )
        body = {
            "payment": PaymentSerializer(payment).data,
            "order": represent(OrderSerializer, orders.get_order(order_id=payment.order_id)),
        }
        return Response(body, status=status.HTTP_201_CREATED)


class PaymentWebhookView(APIView):
    """Stripe's calls: authenticated by the ``Stripe-Signature`` header, not by a user's token."""

    reads_raw_body = True  # the signed bytes, never parsed by DRF: no parse or validation errors
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]  # documents the body; the view reads the raw bytes, which are what is signed

    class EventSerializer(serializers.Serializer):
        id = serializers.CharField()
        type = serializers.CharField(
            help_text="Applied: `payment_intent.succeeded`, "
            "`payment_intent.payment_failed`, `charge.refunded`; others are acknowledged and ignored."
        )
        data = serializers.DictField()

    class ResultSerializer(serializers.Serializer):
        status = serializers.CharField(help_text="`applied`, `duplicate` (applied before) or `ignored`.")

    @extend_schema(
        operation_id="payment_webhook",
        summary="Stripe events (for Stripe)",
        request=EventSerializer,
        parameters=[
            OpenApiParameter(
                "Stripe-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Stripe's signature of the body, made with this shop's webhook signing secret.",
            )
        ],
        responses={
            200: ResultSerializer,
            **error_responses(InvalidWebhookSignature, InvalidWebhookPayload, PaymentProviderUnavailable),
        },
        description="Called by Stripe, not by clients: payment succeeded, payment failed and refund events, each "
        "applied once (a redelivered event answers `duplicate`). Events without a valid `Stripe-Signature` are "
        "refused with 400.",
        examples=[
            OpenApiExample(
                "Payment succeeded",
                value={
                    "id": "evt_1",
                    "type": "payment_intent.succeeded",
                    "data": {"object": {"id": "pi_1", "object": "payment_intent", "status": "succeeded"}},
                },
                request_only=True,
                description="Stripe signs each event; an unsigned one like this example is refused (400).",
            )
        ],
    )
    def post(self, request):
        result = services.apply_webhook_event(payload=request.body, signature=request.headers.get("Stripe-Signature"))
        return Response({"status": result})
