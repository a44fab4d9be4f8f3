"""Payments' own queries, for its views and services."""

from django.db.models import QuerySet

from orders import services as orders
from payments.models import Payment


def filter_payments(*, viewer_id: int | None, order_id: int | None = None) -> QuerySet[Payment]:
    """The payments ``viewer_id`` may see (``None``: staff, all of them), of one order if given, newest first.

    Raises OrderNotFound when ``order_id`` is unknown or not the viewer's.
    """
    payments = Payment.objects.all() if viewer_id is None else Payment.objects.filter(user_id=viewer_id)
    if order_id is not None:
        orders.get_order(order_id=order_id, user_id=viewer_id)
        payments = payments.filter(order_id=order_id)
    return payments.order_by("-created_at", "-id")
