"""Catalog's part of staff pages drawn by the project's templates (the admin index)."""

from django import template
from django.conf import settings

from catalog import selectors

register = template.Library()


@register.simple_tag
def low_stock_products(limit: int = 10) -> selectors.LowStock:
    """Active products with at most LOW_STOCK_THRESHOLD units available, fewest first."""
    return selectors.low_stock_products(threshold=settings.LOW_STOCK_THRESHOLD, limit=limit)
