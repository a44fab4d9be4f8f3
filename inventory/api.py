"""/inventory endpoints: stock levels per product."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ecommerce.api import ErrorCode, error_responses, staff_permission_responses
from ecommerce.permissions import HasRequiredPermissions, IsStaff
from ecommerce.serializers import StrictSerializer
from inventory import selectors, services
from inventory.errors import InsufficientStock, StockItemNotFound
from inventory.models import StockMovement
from inventory.services import MAX_STOCK


class StockLevelSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    stock = serializers.IntegerField(source="available", help_text="Available to buy now: onHand - reserved.")
    on_hand = serializers.IntegerField(required=False, help_text="Staff only.")
    reserved = serializers.IntegerField(required=False, help_text="Staff only.")
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if not (request and request.user.is_staff):
            del data["on_hand"], data["reserved"]
        return data


class StockLevelView(APIView):
    required_permissions = {"PATCH": ["inventory.change_stockitem"]}
    path_id_name = "productId"
    path_id_description = "The product's id."

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [IsStaff(), HasRequiredPermissions()]
        return [IsAuthenticated()]

    class UpdateSerializer(StrictSerializer):
        shapes = (("stock",), ("adjust_by",))

        stock = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, required=False)
        adjust_by = serializers.IntegerField(min_value=-MAX_STOCK, max_value=MAX_STOCK, required=False)
        reason = serializers.CharField(max_length=255, required=False, allow_blank=True)

        def validate(self, attrs):
            if ("stock" in attrs) == ("adjust_by" in attrs):
                raise serializers.ValidationError("Send either `stock` or `adjustBy`.", code="stock_or_adjust_by")
            return attrs

    @extend_schema(
        operation_id="inventory_retrieve",
        summary="Stock of a product",
        responses={200: StockLevelSerializer, **error_responses(StockItemNotFound)},
        description="Units available to buy now. Staff also see the units on hand and those reserved by pending "
        "orders. A product withdrawn from sale is 404 for customers, as in /products.",
    )
    def get(self, request, pk: int):
        level = services.get_stock_level(product_id=pk, listed_only=not request.user.is_staff)
        return Response(StockLevelSerializer(level, context={"request": request}).data)

    @extend_schema(
        operation_id="inventory_update",
        summary="Set or adjust stock (staff)",
        request=UpdateSerializer,
        responses={
            200: StockLevelSerializer,
            **error_responses(StockItemNotFound, InsufficientStock, ErrorCode(400, "stock_or_adjust_by")),
            **staff_permission_responses("inventory.change_stockitem"),
        },
        description="Staff only. Send either `stock` (the number of units available to buy from now on) or "
        "`adjustBy` (units received, or removed if negative: counts made by others at the same time are kept), "
        "with an optional `reason` for the stock history. Neither may leave fewer than 0 units available (409).",
        examples=[
            OpenApiExample(
                "Delivery received", value={"adjustBy": 10, "reason": "Delivery from the supplier"}, request_only=True
            ),
            OpenApiExample("Stock count", value={"stock": 25, "reason": "Stock count"}, request_only=True),
        ],
    )
    def patch(self, request, pk: int):
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = data.validated_data
        note = change.get("reason", "")
        if "stock" in change:
            level = services.set_available_stock(
                product_id=pk, available=change["stock"], actor_id=request.user.id, note=note
            )
        else:
            level = services.adjust_stock(product_id=pk, delta=change["adjust_by"], actor_id=request.user.id, note=note)
        return Response(StockLevelSerializer(level, context={"request": request}).data)


class StockMovementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    on_hand_delta = serializers.IntegerField(help_text="Change of the units on hand.")
    reserved_delta = serializers.IntegerField(help_text="Change of the units held for pending orders.")
    reason = serializers.ChoiceField(choices=StockMovement.Reason.choices)
    order_id = serializers.IntegerField(allow_null=True, help_text="The order that caused it, if any.")
    actor_id = serializers.IntegerField(allow_null=True, help_text="The user who made the change, if any.")
    note = serializers.CharField(help_text="The reason staff gave, if any.")
    created_at = serializers.DateTimeField()


class StockMovementListView(GenericAPIView):
    permission_classes = [IsStaff]
    path_id_name = "productId"
    path_id_description = "The product's id."

    @extend_schema(
        operation_id="inventory_movements_list",
        summary="A product's stock movements",
        responses={200: StockMovementSerializer(many=True), **error_responses(StockItemNotFound)},
        description="Staff: the history of a product's stock, newest first. Every change (a restock, a sale, "
        "an order holding units...) is one movement saying who, why and for which order; their deltas add up "
        "to the current levels.",
    )
    def get(self, request, pk: int):
        services.get_stock_level(product_id=pk)  # 404 for a product whose stock is not kept
        page = self.paginate_queryset(selectors.movements_of(product_id=pk))
        return self.get_paginated_response(StockMovementSerializer(page, many=True).data)
