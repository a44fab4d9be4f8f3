"""Orders' part of staff pages drawn by the project's templates (the admin index)."""

from django import template
from django.utils import timezone

from orders import services

register = template.Library()


@register.simple_tag
def sales_today() -> services.SalesSummary:
    """Orders placed and paid since midnight (the server's time zone), and their revenue."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return services.sales_since(since=midnight)
