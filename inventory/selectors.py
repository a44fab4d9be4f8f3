"""Queries of the inventory app's own views."""

from django.db.models import QuerySet

from inventory.models import StockMovement


def movements_of(*, product_id: int) -> QuerySet[StockMovement]:
    """A product's stock ledger, newest first."""
    return StockMovement.objects.filter(product_id=product_id).order_by("-id")
