"""Catalog's own queries, for its views and admin: filtered product lists and products with their stock."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Concat, Lower
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual

from catalog import images
from catalog.errors import ProductNotFound
from catalog.models import Category, Product
from inventory import services as inventory


@dataclass(frozen=True)
class ProductFilters:
    """What a product list is narrowed to (``None``: no filter) and its order, as a model field name."""

    search: str = ""
    category: str = ""  # a category's name or slug, in any case
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    is_active: bool | None = None
    ordering: str = "id"


@dataclass(frozen=True)
class ProductDetails:
    """A product as clients see it, with the stock available to buy now."""

    id: int
    name: str
    description: str
    category: str
    sku: str | None
    price: Decimal
    stock: int
    is_active: bool
    created_at: datetime
    updated_at: datetime
    images: tuple[images.ImageLinks, ...]


def categories_named(text: str) -> QuerySet[Category]:
    """The category whose name or slug is ``text`` in any case (by name first: at most one, as a query)."""
    by_name = Exact(Lower("name"), Lower(Value(text)))
    matches = Category.objects.filter(by_name | Exact(Lower("slug"), Lower(Value(text))))
    return matches.order_by(Case(When(by_name, then=0), default=1))[:1]


def filter_products(*, filters: ProductFilters) -> QuerySet[Product]:
    """Products matching ``filters``, with their category, in a stable order (ties broken by id).

    ``in_stock`` costs one query to inventory, made here.
    """
    products = Product.objects.select_related("category")
    if filters.is_active is not None:
        products = products.filter(is_active=filters.is_active)
    if filters.search:
        text = filters.search
        products = products.filter(Q(name__icontains=text) | Q(description__icontains=text) | Q(sku__icontains=text))
    if filters.category:
        # category_id = (SELECT ... LIMIT 1): computed once, then the (category, is_active, id) index reads the
        # page in order
        products = products.filter(category=Subquery(categories_named(filters.category).values("id")))
    if filters.min_price is not None:
        products = products.filter(price__gte=filters.min_price)
    if filters.max_price is not None:
        products = products.filter(price__lte=filters.max_price)
    if filters.in_stock is not None:
        in_stock_ids = inventory.get_in_stock_product_ids()
        products = products.filter(pk__in=in_stock_ids) if filters.in_stock else products.exclude(pk__in=in_stock_ids)
    # A search is sorted by expressions no index serves, so that the database finds the matches through the
    # search's own (trigram) indexes and sorts the few found: ordered by an indexed column, it may instead walk
    # that index testing every product, expecting the matches early (1M products: 0.5 s instead of 10 ms).
    key = _unindexed if filters.search else F
    field = filters.ordering.removeprefix("-")
    sort = key(field).desc() if filters.ordering.startswith("-") else key(field).asc()
    return products.order_by(sort) if field == "id" else products.order_by(sort, key("id").asc())


def after(*, filters: ProductFilters, value, product_id: int) -> Q:
    """The products after the one whose sort key is ``value`` and id ``product_id``, in the order of ``filters``
    (keyset pagination: ``filter_products(filters=filters).filter(after(...))``).

    Written as ``key >= value AND (key > value OR id > product_id)`` (descending: ``<=``, ``<``), whose first
    half bounds an index range scan on every database: the page after a cursor reads only its own rows.
    """
    key = _unindexed if filters.search else F
    field = filters.ordering.removeprefix("-")
    descending = filters.ordering.startswith("-")
    if field == "id":
        return Q(LessThan(key("id"), product_id) if descending else GreaterThan(key("id"), product_id))
    reached, beyond = (LessThanOrEqual, LessThan) if descending else (GreaterThanOrEqual, GreaterThan)
    return Q(reached(key(field), value)) & (Q(beyond(key(field), value)) | Q(GreaterThan(key("id"), product_id)))


def _unindexed(field: str):
    """A field as an expression of the same order that no index matches."""
    if field == "name":
        return Concat(F(field), Value(""), output_field=CharField())
    if field == "created_at":
        return ExpressionWrapper(F(field) + Value(timedelta(0)), output_field=DateTimeField())
    return ExpressionWrapper(F(field) + Value(0), output_field=Product._meta.get_field(field))  # id, price


def available_stock(*, product_ids: Iterable[int]) -> dict[int, int]:
    """Units available to buy now per product, in one query to inventory; 0 where it keeps no stock."""
    ids = list(product_ids)
    levels = inventory.get_available_stock(product_ids=ids)
    return {product_id: levels.get(product_id, 0) for product_id in ids}


def with_stock(products: Sequence[Product]) -> list[ProductDetails]:
    """The products with their available stock, read in one query whatever their number."""
    stock = available_stock(product_ids=[product.id for product in products])
    return [
        ProductDetails(
            id=product.id,
            name=product.name,
            description=product.description,
            category=product.category_name,
            sku=product.sku,
            price=product.price,
            stock=stock[product.id],
            is_active=product.is_active,
            created_at=product.created_at,
            updated_at=product.updated_at,
            images=images.links(product.images),
        )
        for product in products
    ]


def get_product_details(*, product_id: int, include_inactive: bool) -> ProductDetails:
    """One product with its stock, in two queries. Raises ProductNotFound (unknown, or inactive and not included)."""
    products = Product.objects.select_related("category").filter(pk=product_id)
    if not include_inactive:
        products = products.filter(is_active=True)
    product = products.first()
    if product is None:
        raise ProductNotFound()
    return with_stock([product])[0]


@dataclass(frozen=True)
class LowStock:
    """The active products with little stock left: how many, and the ``products`` with the least."""

    threshold: int
    count: int
    products: list[ProductDetails]


def low_stock_products(*, threshold: int, limit: int) -> LowStock:
    """Active products with at most ``threshold`` units available, fewest first (``limit`` of them); three queries."""
    low_ids = inventory.get_low_stock_product_ids(threshold=threshold)
    products = with_stock(list(Product.objects.select_related("category").filter(pk__in=low_ids, is_active=True)))
    products.sort(key=lambda product: (product.stock, product.id))
    return LowStock(threshold=threshold, count=len(products), products=products[:limit])
