"""/cart endpoints: the caller's own cart (there is no way to name another user's)."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cart import services
from cart.errors import NotInCart, QuantityTooLarge
from cart.models import MAX_LINE_QUANTITY
from ecommerce.api import error_responses
from ecommerce.errors import NotFound
from ecommerce.money import AmountTooLarge
from ecommerce.serializers import StrictSerializer, amount_field, represent
from inventory.services import InsufficientStock


class CartItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    unit_price = amount_field()
    quantity = serializers.IntegerField()
    line_total = amount_field()
    stock = serializers.IntegerField(help_text="Units available to buy now (0 for a withdrawn product).")


class CartSerializer(serializers.Serializer):
    items = CartItemSerializer(many=True)
    total_quantity = serializers.IntegerField()
    subtotal = amount_field()
    currency = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)


class CartView(APIView):
    permission_classes = [IsAuthenticated]

    class AddSerializer(StrictSerializer):
        product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)

    @extend_schema(
        operation_id="cart_retrieve",
        summary="Your cart",
        responses={200: CartSerializer},
        description="Your cart at today's prices, with the stock available for each product.",
    )
    def get(self, request):
        return Response(represent(CartSerializer, services.get_cart(user_id=request.user.id)))

    @extend_schema(
        operation_id="cart_add",
        summary="Add a product to your cart",
        request=AddSerializer,
        responses={
            200: CartSerializer,
            **error_responses(NotFound, InsufficientStock, AmountTooLarge, QuantityTooLarge),
        },
        description="Adds `quantity` units to those already in your cart (at most 1000 of a product). Asking for "
        "more than is available is 409 `insufficient_stock` (with `available`), and the cart is unchanged; so "
        "does a cart worth more than 9999999999.99 (409 `amount_too_large`). An unknown or withdrawn product is 404.",
        examples=[OpenApiExample("Two units", value={"productId": 1, "quantity": 2}, request_only=True)],
    )
    def post(self, request):
        data = self.AddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.add_to_cart(user_id=request.user.id, **data.validated_data)
        return Response(represent(CartSerializer, cart))

    @extend_schema(
        operation_id="cart_clear",
        summary="Empty your cart",
        responses={200: CartSerializer},
        description="Removes every product from your cart.",
    )
    def delete(self, request):
        return Response(represent(CartSerializer, services.clear_cart(user_id=request.user.id)))


class CartLineView(APIView):
    permission_classes = [IsAuthenticated]
    path_id_name = "productId"
    path_id_description = "The id of a product in your cart."

    class QuantitySerializer(StrictSerializer):
        quantity = serializers.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)

    @extend_schema(
        operation_id="cart_line_update",
        summary="Change a quantity in your cart",
        request=QuantitySerializer,
        responses={
            200: CartSerializer,
            **error_responses(NotInCart, InsufficientStock, AmountTooLarge, QuantityTooLarge),
        },
        description="Sets how many units of a product in your cart you want; 0 removes it. A product that is "
        "not in your cart is 404.",
        examples=[OpenApiExample("Three units", value={"quantity": 3}, request_only=True)],
    )
    def patch(self, request, pk: int):
        data = self.QuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.set_cart_quantity(user_id=request.user.id, product_id=pk, **data.validated_data)
        return Response(represent(CartSerializer, cart))

    @extend_schema(
        operation_id="cart_line_remove",
        summary="Remove a product from your cart",
        responses={200: CartSerializer, **error_responses(NotInCart)},
        description="A product that is not in your cart is 404.",
    )
    def delete(self, request, pk: int):
        return Response(represent(CartSerializer, services.remove_from_cart(user_id=request.user.id, product_id=pk)))
