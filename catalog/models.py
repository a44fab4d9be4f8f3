import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q

MIN_PRICE = Decimal("0.01")
MAX_PRICE = Decimal("999999999.99")


class CatalogueVersion(models.Model):
    """One row whose token changes, in the same transaction, with every change to any product.

    Cached product pages are keyed by this token (see ``catalog.pages``), so a committed change is never
    served from a page rendered before it. A token is random rather than a counter: a rolled-back
    transaction or a restored backup can bring back an old token only together with the products it described.
    """

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token


def bump_catalogue_version() -> None:
    """Give the catalogue a new version token (creating its row if a flush or restore removed it)."""
    token = uuid.uuid4().hex
    if not CatalogueVersion.objects.filter(pk=1).update(token=token):
        CatalogueVersion.objects.update_or_create(pk=1, defaults={"token": token})


class ProductQuerySet(models.QuerySet):
    """Every bulk write through the ORM bumps the catalogue version, like ``Product.save`` does."""

    def update(self, **kwargs):
        changed = super().update(**kwargs)
        if changed:
            bump_catalogue_version()
        return changed

    def delete(self):
        deleted = super().delete()
        bump_catalogue_version()
        return deleted

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        bump_catalogue_version()
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        changed = super().bulk_update(objs, fields, *args, **kwargs)
        bump_catalogue_version()
        return changed


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
    # The product's pictures in their order, [{"thumbnail", "detail", "alt"}] (storage names), copied from its
    # ProductImage rows by catalog.services whenever they change: the product pages read them with the product.
    images = models.JSONField(default=list, blank=True, editable=False)

    objects = ProductQuerySet.as_manager()

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
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            bump_catalogue_version()

    def delete(self, *args, **kwargs):
        with transaction.atomic(savepoint=False):
            deleted = super().delete(*args, **kwargs)
            bump_catalogue_version()
        return deleted


class ProductImage(models.Model):
    """A picture of a product as staff uploaded it, with its renditions (names in the default storage)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="pictures")
    original = models.CharField(max_length=255)
    thumbnail = models.CharField(max_length=255)
    detail = models.CharField(max_length=255)
    alt_text = models.CharField(
        max_length=200, blank=True, help_text="What the picture shows, for people who cannot see it."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Pictures are shown lowest first.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.alt_text or self.original
