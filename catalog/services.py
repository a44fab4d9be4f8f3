"""Catalog: products and their prices. The public interface of this app.

A product's stock is owned by inventory: creating a product creates its stock item, and a stock
change made here goes through ``inventory.services`` (so it is written to the stock ledger), in the
same transaction as the product change.
"""

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import slugify

from catalog import selectors
from catalog.errors import (
    CategoryTaken,
    ImageNotFound,
    ImageStorageUnavailable,
    ImageTooLarge,
    ImageTooManyPixels,
    InvalidImage,
    ProductNotFound,
    SkuTaken,
    UnknownCategory,
    UnsupportedImageType,
)
from catalog.images import ImageLinks, PreparedImage, links, prepare_image
from catalog.models import Category, Product, ProductImage
from catalog.selectors import ProductDetails
from ecommerce.db import atomic, on_commit
from inventory import services as inventory

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_STOCK",
    "ORDERINGS",
    "SORT_CHOICES",
    "CategoryInfo",
    "CategoryTaken",
    "ImageLinks",
    "ImageNotFound",
    "ImageStorageUnavailable",
    "ImageTooLarge",
    "ImageTooManyPixels",
    "InvalidImage",
    "NewProduct",
    "PreparedImage",
    "ProductDetails",
    "ProductInfo",
    "ProductNotFound",
    "ProductPage",
    "ProductPicture",
    "SkuTaken",
    "UnknownCategory",
    "UnsupportedImageType",
    "add_product_image",
    "create_category",
    "create_product",
    "deactivate_product",
    "find_products",
    "get_active_product",
    "get_product_for_sale",
    "get_product_images",
    "get_products",
    "import_products",
    "list_categories",
    "list_product_images",
    "prepare_image",
    "remove_product_image",
    "update_product",
    "update_product_image",
]

MAX_STOCK = inventory.MAX_STOCK  # the most units one product may have available
UPDATABLE_FIELDS = frozenset({"name", "description", "category", "sku", "price", "is_active"})
# Sort keys of product lists (each also descending with a "-" prefix); ties are broken by id.
ORDERINGS = frozenset({"id", "price", "name", "created_at"})
# The sort orders offered to shoppers: (``ordering`` for find_products, label); "" is the catalogue's own order.
SORT_CHOICES = (
    ("", "Featured"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("name", "Name"),
    ("-created_at", "Newest"),
)


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
        category=product.category_name,
    )


def get_products(*, product_ids: Iterable[int]) -> dict[int, ProductInfo]:
    """Products by id, inactive ones included, in one query; unknown ids are left out."""
    rows = Product.objects.filter(pk__in=set(product_ids)).values_list(
        "id", "name", "price", "is_active", "sku", "category__name"
    )  # tuples, not models: the cart and checkout ask this on every request
    return {
        row[0]: ProductInfo(id=row[0], name=row[1], price=row[2], is_active=row[3], sku=row[4], category=row[5] or "")
        for row in rows
    }


def get_active_product(*, product_id: int) -> ProductInfo:
    """The product with this id, if customers may buy it. Raises ProductNotFound (unknown or inactive)."""
    product = Product.objects.select_related("category").filter(pk=product_id, is_active=True).first()
    if product is None:
        raise ProductNotFound()
    return _info(product)


# --- Categories: a managed list, named and slugged uniquely whatever the case -------------------------


@dataclass(frozen=True)
class CategoryInfo:
    name: str
    slug: str


@atomic("catalog")
def create_category(*, name: str, slug: str = "") -> CategoryInfo:
    """Add a category to the managed list; ``slug`` defaults to the name slugified.

    Raises CategoryTaken when a category has this name or slug in any case (even one added a moment ago).
    """
    slug = slug or slugify(name, allow_unicode=True)
    taken = Q(name__iexact=name) | Q(slug__iexact=slug)
    if Category.objects.filter(taken).exists():
        raise CategoryTaken(attr="name")
    try:
        with atomic("catalog"):
            category = Category.objects.create(name=name, slug=slug)
    except IntegrityError as exc:
        raise CategoryTaken(attr="name") from exc
    return CategoryInfo(name=category.name, slug=category.slug)


def _category(text: str) -> Category | None:
    """The category named or slugged ``text`` in any case; None for "". Raises UnknownCategory."""
    if not text:
        return None
    category = selectors.categories_named(text).first()
    if category is None:
        raise UnknownCategory(attr="category")
    return category


def _sku_taken(product: Product) -> bool:
    return bool(product.sku) and Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists()


def _save(product: Product, *, update_fields: list[str] | None = None) -> None:
    """Save a product. Raises SkuTaken when another product has its SKU, even if it won a race."""
    if _sku_taken(product):
        raise SkuTaken(attr="sku")
    try:
        with atomic("catalog"):
            product.save(update_fields=update_fields)
    except IntegrityError as exc:
        if _sku_taken(product):
            raise SkuTaken(attr="sku") from exc
        raise


@atomic("catalog")
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
    """Create a product with ``stock`` units available, and its stock item (ledger: initial). ``category`` is the
    name or slug, in any case, of a category of the managed list ("" for none).

    Raises SkuTaken, UnknownCategory, or inventory's InsufficientStock for a negative stock; then nothing is created.
    """
    product = Product(name=name, price=price, description=description, category=_category(category), sku=sku)
    _save(product)
    inventory.create_stock_item(product_id=product.id, on_hand=stock, actor_id=actor_id)
    return _info(product)


@dataclass(frozen=True)
class NewProduct:
    """A product to import: what ``create_product`` takes, less its stock."""

    name: str
    price: Decimal
    description: str = ""
    category: str = ""
    sku: str | None = None


@atomic("catalog")
def import_products(*, products: Sequence[NewProduct], stock: int = 0, actor_id: int | None = None) -> list[int]:
    """Create many products at once, ``stock`` units each, with their stock items (ledger: initial), in bulk INSERTs.

    For loading catalogues (the benchmark's million products): nothing is validated beyond the database's
    constraints, so a taken SKU raises IntegrityError, and a category not in the list UnknownCategory; then
    nothing is created.
    """
    categories = {text: _category(text) for text in {p.category for p in products}}
    created = Product.objects.bulk_create(
        Product(
            name=p.name, price=p.price, description=p.description, category=categories[p.category], sku=p.sku or None
        )
        for p in products
    )
    product_ids = [product.id for product in created]
    inventory.create_stock_items(product_ids=product_ids, on_hand=stock, actor_id=actor_id)
    return product_ids


@atomic("catalog")
def update_product(*, product_id: int, actor_id: int | None = None, stock_note: str = "", **changes) -> ProductInfo:
    """Change some of a product's fields; ``stock`` sets its available stock through inventory (ledger: adjustment,
    with ``stock_note`` as the reason).

    Raises ProductNotFound, SkuTaken, UnknownCategory (``category`` as ``create_product`` takes it), or inventory's
    InsufficientStock for a negative stock; TypeError for a field that cannot be changed.
    """
    stock = changes.pop("stock", None)
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"Product fields that cannot be updated: {', '.join(sorted(unknown))}")
    if "category" in changes:
        changes["category"] = _category(changes["category"])
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise ProductNotFound()
    if changes:
        for field, value in changes.items():
            setattr(product, field, value)
        _save(product, update_fields=[*changes, "updated_at"])
    if "is_active" in changes:
        inventory.set_listed(product_id=product_id, listed=product.is_active)
    if stock is not None:
        inventory.set_available_stock(product_id=product_id, available=stock, actor_id=actor_id, note=stock_note)
    return _info(product)


@atomic("catalog")
def deactivate_product(*, product_id: int) -> None:
    """Hide a product from customers (soft delete: orders keep their lines); a no-op if it is hidden already.

    Raises ProductNotFound.
    """
    hidden_now = Product.objects.filter(pk=product_id, is_active=True).update(
        is_active=False, updated_at=timezone.now()
    )
    if not hidden_now and not Product.objects.filter(pk=product_id).exists():
        raise ProductNotFound()
    if hidden_now:
        inventory.set_listed(product_id=product_id, listed=False)


# --- Pictures: files in the default storage, rows in ProductImage, copied onto the product for its pages --


def _copy_images_to_product(product_id: int) -> None:
    """Write the product's pictures, in order, onto the product (which gives the catalogue a new version)."""
    stored = [
        {"thumbnail": image.thumbnail, "detail": image.detail, "alt": image.alt_text}
        for image in ProductImage.objects.filter(product_id=product_id)
    ]
    Product.objects.filter(pk=product_id).update(images=stored, updated_at=timezone.now())


@dataclass(frozen=True)
class ProductPicture:
    """A picture of a product as staff manage it: its id, where clients fetch it, its text and its place."""

    id: int
    product_id: int
    thumbnail_url: str
    detail_url: str
    alt: str
    position: int


def _picture(row: ProductImage) -> ProductPicture:
    (link,) = links([{"thumbnail": row.thumbnail, "detail": row.detail, "alt": row.alt_text}])
    return ProductPicture(
        id=row.id,
        product_id=row.product_id,
        thumbnail_url=link.thumbnail_url,
        detail_url=link.detail_url,
        alt=row.alt_text,
        position=row.position,
    )


class _FilesToStore:
    """A new picture's files, written to the storage once the transaction that adds its row commits.

    Nothing is written for a transaction that rolls back, so no file is left behind. If the storage fails
    after the commit, the row is removed again (nothing refers to a missing file) and ``failed`` is set.
    """

    def __init__(self, image_id: int, files: dict[str, bytes]):
        self.image_id, self.files, self.failed = image_id, files, False

    def __call__(self) -> None:
        try:
            for name, data in self.files.items():
                stored_as = default_storage.save(name, ContentFile(data))
                if stored_as != name:
                    default_storage.delete(stored_as)
                    raise OSError(f"the storage stored {name} as {stored_as}")
        except Exception:
            logger.exception("Storing picture %s failed: the picture is removed again.", self.image_id)
            self.failed = True
            with atomic("catalog"):  # the row's deletion removes what was written (catalog.models)
                row = ProductImage.objects.select_for_update().filter(pk=self.image_id).first()
                if row is not None:
                    row.delete()
                    _copy_images_to_product(row.product_id)


def add_product_image(
    *, product_id: int, image: PreparedImage, alt_text: str = "", position: int | None = None
) -> ProductPicture:
    """Add a checked picture (see ``prepare_image``) as the product's last picture, or at ``position``.

    Its files (the original and its renditions) are written once the transaction commits: a rollback leaves no
    file behind. Raises ProductNotFound; ImageStorageUnavailable when the storage fails (then nothing is kept).
    """
    with atomic("catalog"):
        if not Product.objects.select_for_update().filter(pk=product_id).exists():
            raise ProductNotFound()
        stem = f"products/{product_id}/{uuid.uuid4().hex}"
        if position is None:
            last = ProductImage.objects.filter(product_id=product_id).aggregate(last=Max("position"))["last"]
            position = 0 if last is None else last + 1
        row = ProductImage.objects.create(
            product_id=product_id,
            original=f"{stem}.{image.extension}",
            thumbnail=f"{stem}-thumbnail.webp",
            detail=f"{stem}-detail.webp",
            alt_text=alt_text,
            position=position,
        )
        _copy_images_to_product(product_id)
        files = _FilesToStore(
            row.id, {row.original: image.original, row.thumbnail: image.thumbnail, row.detail: image.detail}
        )
        on_commit("catalog", files)
    if files.failed:  # known here when this was the outermost transaction: its commit has just stored the files
        raise ImageStorageUnavailable()
    return _picture(row)


def list_product_images(*, product_id: int) -> list[ProductPicture]:
    """A product's pictures in display order, inactive products included. Raises ProductNotFound."""
    rows = list(ProductImage.objects.filter(product_id=product_id))
    if not rows and not Product.objects.filter(pk=product_id).exists():
        raise ProductNotFound()
    return [_picture(row) for row in rows]


def get_product_images(*, product_ids: Iterable[int]) -> dict[int, tuple[ImageLinks, ...]]:
    """The pictures of products by id, in display order, in one query; inactive products included (orders show
    what was bought), products without pictures and unknown ids left out."""
    rows = Product.objects.filter(pk__in=set(product_ids)).exclude(images=[]).values_list("id", "images")
    return {product_id: links(stored) for product_id, stored in rows}


@atomic("catalog")
def update_product_image(*, image_id: int, alt_text: str, position: int) -> None:
    """Change a picture's text alternative and place. Raises ImageNotFound."""
    row = ProductImage.objects.select_for_update().filter(pk=image_id).first()
    if row is None:
        raise ImageNotFound()
    ProductImage.objects.filter(pk=image_id).update(alt_text=alt_text, position=position)
    _copy_images_to_product(row.product_id)


@atomic("catalog")
def remove_product_image(*, image_id: int, product_id: int | None = None) -> None:
    """Remove a picture (of the product ``product_id``, if given); its files leave the storage once that has
    committed. Raises ImageNotFound.
    """
    rows = ProductImage.objects.select_for_update().filter(pk=image_id)
    row = (rows if product_id is None else rows.filter(product_id=product_id)).first()
    if row is None:
        raise ImageNotFound()
    row.delete()  # its files: see catalog.models.delete_files_after_commit
    _copy_images_to_product(row.product_id)


# --- Queries for shop pages: what customers may buy, with the stock available now --------------------


@dataclass(frozen=True)
class ProductPage:
    """One page of a product list, and how many products match in all."""

    items: list[ProductDetails]
    count: int


def find_products(
    *,
    search: str = "",
    category: str = "",
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    in_stock: bool | None = None,
    ordering: str = "id",
    offset: int = 0,
    limit: int = 20,
) -> ProductPage:
    """A page of the active products matching the filters, with their stock, in three queries (four with ``in_stock``).

    Raises ValueError for an unknown ``ordering`` (one of ORDERINGS, optionally prefixed with ``-``).
    """
    if ordering.removeprefix("-") not in ORDERINGS:
        raise ValueError(f"unknown ordering {ordering!r}")
    filters = selectors.ProductFilters(
        search=search,
        category=category,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        is_active=True,
        ordering=ordering,
    )
    products = selectors.filter_products(filters=filters)
    count = products.count()
    page = list(products[offset : offset + limit]) if count > offset else []
    return ProductPage(items=selectors.with_stock(page), count=count)


def get_product_for_sale(*, product_id: int) -> ProductDetails:
    """An active product with the stock available now, in two queries. Raises ProductNotFound (unknown or inactive)."""
    return selectors.get_product_details(product_id=product_id, include_inactive=False)


def list_categories() -> list[str]:
    """The names of the categories that have active products, sorted, in one query."""
    categories = Category.objects.filter(products__is_active=True).values_list("name", flat=True)
    return list(categories.order_by("name").distinct())
