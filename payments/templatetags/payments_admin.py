"""Payments' part of staff pages drawn by other apps' templates (the order workspace)."""

from django import template

from payments import services

register = template.Library()


@register.simple_tag
def order_payments(order_id: int) -> list[services.PaymentInfo]:
    """The payments of an order, newest first, for staff (``{% order_payments order.id as payments %}``)."""
    return services.list_payments(order_id=order_id)
