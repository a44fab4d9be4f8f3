"""Catalog: products and their prices. The public interface of this app.

A product's stock is owned by inventory: creating a product creates its stock item, and a stock
change made here goes through ``inventory.services`` (so it is written to the stock ledger), in the
same transaction as the product change.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.errors import ProductNotFound, SkuTaken
from catalog.models import Product
from inventory import services as inventory

MAX_STOCK = 1_000_000_000  # the most units one product may have available, as inventory's API allows
UPDATABLE_FIELDS = frozenset({"name", "description", "category", "sku", "price", "is_active"})


@dataclass(frozen=True)
class ProductInfo:
    id: int
    name: str
    price: Decimal
    is_active: bool
    sku: str | None
    category: str


def _info(product: Product) -> ProductInfo:
    return ProductInfo(
        id=product.id,
        name=product.name,
        price=product.price,
        is_active=product.is_active,
        sku=product.sku,
        category=product.category,
    )


def get_products(*, product_ids: Iterable[int]) -> dict[int, ProductInfo]:
    """Products by id, inactive ones included, in one query; unknown ids are left out."""
    return {product.id: _info(product) for product in Product.objects.filter(pk__in=set(product_ids))}


def get_active_product(*, product_id: int) -> ProductInfo:
    """The product with this id, if customers may buy it. Raises ProductNotFound (unknown or inactive)."""
    product = Product.objects.filter(pk=product_id, is_active=True).first()
    if product is None:
        raise ProductNotFound()
    return _info(product)


def _sku_taken(product: Product) -> bool:
    return bool(product.sku) and Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists()


def _save(product: Product, *, update_fields: list[str] | None = None) -> None:
    """Save a product. Raises SkuTaken when another product has its SKU, even if it won a race."""
    if _sku_taken(product):
        raise SkuTaken(attr="sku")
    try:
        with transaction.atomic():
            product.save(update_fields=update_fields)
    except IntegrityError as exc:
        if _sku_taken(product):
            raise SkuTaken(attr="sku") from exc
        raise


@transaction.atomic
def create_product(
    *,
    name: str,
    price: Decimal,
    stock: int = 0,
    description: str = "",
    category: str = "",
    sku: str | None = None,
    actor_id: int | None = None,
) -> ProductInfo:
    """Create a product with ``stock`` units available, and its stock item (ledger: initial).

    Raises SkuTaken, or inventory's InsufficientStock for a negative stock; then nothing is created.
    """
    product = Product(name=name, price=price, description=description, category=category, sku=sku)
    _save(product)
    inventory.create_stock_item(product_id=product.id, on_hand=stock, actor_id=actor_id)
    return _info(product)


@transaction.atomic
def update_product(*, product_id: int, actor_id: int | None = None, **changes) -> ProductInfo:
    """Change some of a product's fields; ``stock`` sets its available stock through inventory (ledger: adjustment).

    Raises ProductNotFound, SkuTaken, or inventory's InsufficientStock for a negative stock; TypeError for a
    field that cannot be changed.
    """
    stock = changes.pop("stock", None)
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"Product fields that cannot be updated: {', '.join(sorted(unknown))}")
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise ProductNotFound()
    if changes:
        for field, value in changes.items():
            setattr(product, field, value)
        _save(product, update_fields=[*changes, "updated_at"])
    if stock is not None:
        inventory.set_available_stock(product_id=product_id, available=stock, actor_id=actor_id)
    return _info(product)


def deactivate_product(*, product_id: int) -> None:
    """Hide a product from customers (soft delete: orders keep their lines); a no-op if it is hidden already.

    Raises ProductNotFound.
    """
    hidden_now = Product.objects.filter(pk=product_id, is_active=True).update(
        is_active=False, updated_at=timezone.now()
    )
    if not hidden_now and not Product.objects.filter(pk=product_id).exists():
        raise ProductNotFound()
