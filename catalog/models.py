import uuid
from decimal import Decimal

from django.core.files.storage import default_storage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.signals import post_delete
from django.dispatch import receiver

from ecommerce.db import atomic

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


class CatalogueQuerySet(models.QuerySet):
    """Every bulk write through the ORM bumps the catalogue version, like ``CatalogueModel.save`` does."""

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


class CatalogueModel(models.Model):
    """A model the product pages show: every write to it bumps the catalogue version in the same transaction."""

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        with atomic("catalog", savepoint=False):
            super().save(*args, **kwargs)
            bump_catalogue_version()

    def delete(self, *args, **kwargs):
        with atomic("catalog", savepoint=False):
            deleted = super().delete(*args, **kwargs)
            bump_catalogue_version()
        return deleted


class Category(CatalogueModel):
    """A category of the managed list staff edit in the admin; names and slugs are unique whatever their case.

    Product pages show the category's name, so saving or deleting a category bumps the catalogue version.
    """

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="catalog_category_name_ci_unique",
                violation_error_message="A category with this name (in any case) exists already.",
            ),
            models.UniqueConstraint(
                Lower("slug"),
                name="catalog_category_slug_ci_unique",
                violation_error_message="A category with this slug (in any case) exists already.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(CatalogueModel):
    """Something the shop sells. Its stock is kept by inventory, under the product's id."""

    name = models.CharField(max_length=200, db_index=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,  # a category in use is renamed, or its products moved, before it goes
        null=True,
        blank=True,
        related_name="products",
        db_index=False,  # served by catalog_product_cat_active_id below, which also orders by id
    )
    sku = models.CharField(max_length=64, null=True, blank=True, unique=True, help_text="Optional; unique when set.")
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(MIN_PRICE), MaxValueValidator(MAX_PRICE)]
    )
    is_active = models.BooleanField(default=True, help_text="Inactive products are hidden from customers.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The product's pictures in their order, [{"thumbnail", "detail", "alt"}] (storage names), copied from its
    # ProductImage rows by catalog.services whenever they change: the product pages read them with the product.
    images = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        # Each list order (ties by id) read from an index in that order, so that a page, and the page after a
        # cursor, costs the rows it shows whatever the catalogue's size; the category's with is_active, so that
        # counting a category's active products (up to catalog.pages.COUNT_LIMIT) reads the index alone.
        indexes = [
            models.Index(fields=["is_active", "id"], name="catalog_product_active_id"),
            models.Index(fields=["price", "id"], name="catalog_product_price_id"),
            models.Index(fields=["category", "is_active", "id"], name="catalog_product_cat_active_id"),
            models.Index(fields=["created_at", "id"], name="catalog_product_created_id"),
            models.Index(fields=["-created_at", "id"], name="catalog_product_newest_id"),
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

    @property
    def category_name(self) -> str:
        """Its category's name, "" for none (a query, unless read with ``select_related("category")``)."""
        return self.category.name if self.category_id else ""


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


@receiver(post_delete, sender=ProductImage)
def delete_files_after_commit(sender, instance: ProductImage, using: str, **kwargs) -> None:
    """A picture's files leave the storage once the deletion of its row commits (never if it rolls back), however
    the row goes: removed by staff, or with its product."""
    names = (instance.original, instance.thumbnail, instance.detail)

    def delete_files():
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(delete_files, using=using, robust=True)
