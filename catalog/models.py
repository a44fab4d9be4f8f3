from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

MIN_PRICE = Decimal("0.01")
MAX_PRICE = Decimal("999999999.99")


class Product(models.Model):
    """Something the shop sells. Its stock is kept by inventory, under the product's id."""

    name = models.CharField(max_length=200, db_index=True)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=100, blank=True, db_index=True)
    sku = models.CharField(max_length=64, null=True, blank=True, unique=True, help_text="Optional; unique when set.")
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(MIN_PRICE), MaxValueValidator(MAX_PRICE)]
    )
    is_active = models.BooleanField(default=True, help_text="Inactive products are hidden from customers.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["is_active", "id"], name="catalog_product_active_id"),
            models.Index(fields=["price", "id"], name="catalog_product_price_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=MIN_PRICE),
                name="catalog_product_price_positive",
                violation_error_message="The price must be at least 0.01.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.sku = self.sku or None  # an empty SKU is no SKU: it must not collide with other empty ones
        super().save(*args, **kwargs)
