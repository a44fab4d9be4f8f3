"""The order's wire shape: what every endpoint that answers with an order (``/order``, ``/payment``) sends.

A public module of the orders app, beside ``orders.services``: other apps' APIs answer with an order through
``OrderSerializer`` (given an ``orders.services.OrderInfo``), so the shape is written once.
"""

from rest_framework import serializers

from ecommerce.serializers import AddressSerializer, amount_field
from orders.models import Order, StatusChange

__all__ = ["OrderSerializer"]


class OrderItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    unit_price = amount_field()
    quantity = serializers.IntegerField()
    line_total = amount_field()


class TimelineEntrySerializer(serializers.Serializer):
    from_status = serializers.ChoiceField(
        choices=Order.Status.choices, allow_null=True, help_text="null for the order's creation."
    )
    to_status = serializers.ChoiceField(choices=Order.Status.choices)
    at = serializers.DateTimeField()
    actor = serializers.ChoiceField(
        choices=StatusChange.Actor.choices,
        help_text="Who moved the order: the customer, a staff user, the payment provider or the expiry job.",
    )
    actor_id = serializers.IntegerField(allow_null=True, help_text="The customer's or staff user's id, if a person.")
    reason = serializers.CharField(help_text="Why, where one was given; else empty.")


class ShippingChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="null once staff deleted the method.")
    name = serializers.CharField(help_text="As the method was called at checkout.")


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    items = OrderItemSerializer(many=True)
    subtotal = amount_field()
    total = amount_field()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(help_text="A pending order holds its stock until then.")
    timeline = TimelineEntrySerializer(many=True, help_text="Every status the order entered, oldest first.")
    shipping = amount_field(help_text="The shipping price; `total` = `subtotal` + `shipping`.")
    shipping_method = ShippingChoiceSerializer(allow_null=True, help_text="null: placed without delivery.")
    shipping_address = AddressSerializer(allow_null=True, help_text="A copy made at checkout; null: no delivery.")
