"""/order endpoints: checkout, the caller's orders (staff: everyone's), cancellation and status."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import AddressNotFound
from ecommerce.api import error_responses, staff_permission_responses
from ecommerce.idempotency import (
    IDEMPOTENCY_KEY_PARAMETER,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    RequestInProgress,
    idempotent,
)
from ecommerce.money import AmountTooLarge
from ecommerce.permissions import HasRequiredPermissions, IsStaff
from ecommerce.serializers import (
    ADDRESS_ERRORS,
    AddressSerializer,
    QueryIntegerField,
    StrictSerializer,
    amount_field,
    query_params,
    represent,
)
from ecommerce.throttling import NewAttemptThrottle
from inventory.services import InsufficientStock
from orders import selectors, services
from orders.errors import (
    AmbiguousAddress,
    CartEmpty,
    InvalidTransition,
    OrderNotFound,
    ReservedUnitsLimit,
    ShippingAddressRequired,
    ShippingMethodRequired,
    ShippingMethodUnavailable,
    TooManyPendingOrders,
)
from orders.models import Order
from orders.serializers import OrderSerializer

VIEW_ORDERS = "orders.view_order"  # staff with it see everyone's orders
CHANGE_ORDERS = "orders.change_order"  # staff with it ship, deliver, cancel and refund anyone's orders


REASON_MAX_LENGTH = 500


def reason_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=REASON_MAX_LENGTH, required=False, allow_blank=True, help_text="Shown on the order's timeline."
    )


MAX_ID = 2**63 - 1


class CheckoutView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [NewAttemptThrottle]
    throttle_scope = "checkout"

    class InputSerializer(StrictSerializer):
        # No delivery, or a shipping method with a new or a saved address (the service says which is missing).
        shapes = ((), ("shipping_method_id", "shipping_address"), ("shipping_method_id", "address_id"))

        shipping_address = AddressSerializer(required=False, help_text="Where to deliver (or `addressId`).")
        address_id = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_ID, help_text="A saved address of `/auth/me/addresses`."
        )
        shipping_method_id = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_ID, help_text="One of `GET /order/shipping-methods`."
        )

    @extend_schema(
        operation_id="order_checkout",
        summary="Place an order from your cart",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: OrderSerializer,
            200: OpenApiResponse(
                OrderSerializer,
                description="The order placed by an earlier request with the same `Idempotency-Key` "
                "(`Idempotent-Replayed: true`); nothing was done again.",
            ),
            **error_responses(
                ShippingMethodRequired,
                ShippingAddressRequired,
                AmbiguousAddress,
                ShippingMethodUnavailable,
                AddressNotFound,
                CartEmpty,
                InsufficientStock,
                TooManyPendingOrders,
                ReservedUnitsLimit,
                AmountTooLarge,
                RequestInProgress,
                IdempotencyKeyReused,
                InvalidIdempotencyKey,
                *ADDRESS_ERRORS,
            ),
        },
        description="Turns your cart into a pending order at today's prices and empties the cart. Every unit is "
        "set aside for you until `expiresAt` (30 minutes by default): pay before then, or the order is cancelled. "
        "Either every product is available or nothing happens: 409 `insufficient_stock` lists the products "
        "short of stock in `productIds`. Send an `Idempotency-Key` to retry safely.\n\n"
        "Limits: at most `MAX_PENDING_ORDERS` (5) unpaid orders holding stock (409 `too_many_pending_orders`), "
        "holding at most `MAX_RESERVED_UNITS` (1000) units in all, this order included (409 "
        "`reserved_units_limit`): pay or cancel an order first. At most `CHECKOUT_THROTTLE_RATE` (20/min) "
        "checkouts per user (429 `throttled`, `Retry-After`); replays of an `Idempotency-Key` do not count.\n\n"
        "Delivery: give `shippingMethodId` and either `shippingAddress` or a saved `addressId`; the method's "
        "price for the subtotal is copied into `shipping` and `total` = `subtotal` + `shipping` (a method not on offer "
        "is 404 `shipping_method_unavailable`). An empty body "
        "`{}` places an order without delivery (no address, no shipping charged). Address fields are checked as in "
        "`/auth/me/addresses` (400 `attr` e.g. `shippingAddress.country`, code `invalid_country`).",
        examples=[OpenApiExample("Check out", value={}, request_only=True)],
    )
    @idempotent("checkout")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")  # a retry of the same key resumes the same checkout
        order = services.checkout(user_id=request.user.id, key=key, **data.validated_data)
        return Response(represent(OrderSerializer, order), status=status.HTTP_201_CREATED)


class ShippingMethodListView(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        description = serializers.CharField()
        price = amount_field(help_text="What this method costs for the caller's cart as it stands.")
        flat_price = amount_field(help_text="The method's price when not free.")
        free_over = amount_field(allow_null=True, help_text="Free for a subtotal of at least this; null: never.")
        currency = serializers.CharField()

    @extend_schema(
        operation_id="order_shipping_methods",
        summary="Shipping methods",
        responses={200: OutputSerializer(many=True)},
        description="The shipping methods on offer, priced for the caller's cart (free over a threshold where the "
        "method has one). Not paginated: a shop offers a handful.",
    )
    def get(self, request):
        options = services.list_shipping_options_for_cart(user_id=request.user.id)
        return Response(self.OutputSerializer(options, many=True).data)


class OrderListView(GenericAPIView):
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        user_id = QueryIntegerField(required=False, min_value=1, max_value=2**63 - 1)
        status = serializers.ChoiceField(choices=Order.Status.choices, required=False)

    @extend_schema(
        operation_id="order_list",
        summary="List orders",
        parameters=[
            OpenApiParameter(
                "userId",
                {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID},
                description="Staff with `orders.view_order` only: one customer's orders.",
            ),
            OpenApiParameter(
                "status", str, enum=Order.Status.values, description="Staff with `orders.view_order` only."
            ),
        ],
        responses={200: OrderSerializer(many=True)},
        description="Your orders, newest first, 20 a page (`pageSize` up to 100). Staff with `orders.view_order` "
        "see everyone's and may filter them by customer and status.",
    )
    def get(self, request):
        is_staff = request.user.has_perm(VIEW_ORDERS)
        query = self.FilterSerializer(data=query_params(request))
        query.is_valid(raise_exception=True)  # checked for everyone; only staff's filters are applied
        filters = query.validated_data if is_staff else {}
        if not is_staff:  # a customer's own orders settle their expiry; the staff list leaves the sweep to the job
            services.expire_due_orders(user_id=request.user.id)
        orders = selectors.orders_for(
            user_id=filters.get("user_id") if is_staff else request.user.id, status=filters.get("status")
        )
        page = self.paginate_queryset(orders)
        return self.get_paginated_response(OrderSerializer([services.to_info(o) for o in page], many=True).data)


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]
    path_id_description = "The order's id."

    @extend_schema(
        operation_id="order_retrieve",
        summary="Get an order",
        responses={200: OrderSerializer, **error_responses(OrderNotFound)},
        description="One of your orders (staff: anyone's). Someone else's order is 404.",
    )
    def get(self, request, pk: int):
        user_id = None if request.user.has_perm(VIEW_ORDERS) else request.user.id
        return Response(represent(OrderSerializer, services.get_order(order_id=pk, user_id=user_id)))


class OrderCancelView(APIView):
    permission_classes = [IsAuthenticated]
    path_id_description = "The order's id."

    class InputSerializer(StrictSerializer):
        reason = reason_field()

    @extend_schema(
        operation_id="order_cancel",
        summary="Cancel an order",
        request=InputSerializer,
        responses={200: OrderSerializer, **error_responses(OrderNotFound, InvalidTransition, *services.REFUND_ERRORS)},
        description="Cancels one of your pending orders; its products go back on sale. Staff with "
        "`orders.change_order` may cancel anyone's order, and a paid one too: the payment is refunded (status "
        "`refunded`). Any other order is 409 `invalid_transition`. The optional `reason` is shown on the order's "
        "timeline.",
        examples=[OpenApiExample("Changed my mind", value={"reason": "Changed my mind"}, request_only=True)],
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        as_staff = request.user.has_perm(CHANGE_ORDERS)
        order = services.cancel_order(order_id=pk, user_id=request.user.id, is_staff=as_staff, **data.validated_data)
        return Response(represent(OrderSerializer, order))


class OrderStatusView(APIView):
    permission_classes = [IsStaff, HasRequiredPermissions]
    required_permissions = {"PATCH": [CHANGE_ORDERS]}
    path_id_description = "The order's id."

    class InputSerializer(StrictSerializer):
        status = serializers.ChoiceField(choices=[(s.value, s.label) for s in services.STAFF_TARGETS])
        reason = reason_field()

    @extend_schema(
        operation_id="order_status_update",
        summary="Change an order's status (staff)",
        request=InputSerializer,
        responses={
            200: OrderSerializer,
            **error_responses(OrderNotFound, InvalidTransition, *services.REFUND_ERRORS),
            **staff_permission_responses(CHANGE_ORDERS),
        },
        description="Staff with `orders.change_order` only. Orders move paid -> shipped -> delivered; a pending "
        "order may be cancelled; a paid one refunded (or cancelled, which refunds it). An order becomes `paid` only "
        "by being paid. Any other move is 409 `invalid_transition`.",
        examples=[OpenApiExample("Shipped", value={"status": "shipped"}, request_only=True)],
    )
    def patch(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.change_order_status(order_id=pk, actor_id=request.user.id, **data.validated_data)
        return Response(represent(OrderSerializer, order))
