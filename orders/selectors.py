"""Queries behind the order API's lists."""

from django.db.models import QuerySet

from orders.models import Order


def orders_for(*, user_id: int | None, status: str | None = None) -> QuerySet[Order]:
    """Orders newest first with their lines and timelines (two extra queries per page), of one user or everyone."""
    orders = Order.objects.prefetch_related("lines", "status_changes").order_by("-created_at", "-id")
    if user_id is not None:
        orders = orders.filter(user_id=user_id)
    if status:
        orders = orders.filter(status=status)
    return orders
