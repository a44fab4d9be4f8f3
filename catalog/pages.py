"""The customer-facing product JSON, rendered once per catalogue version and completed with live stock.

A product list is the hottest read of a shop, so its pages are kept rendered, per process, under a key
made of the catalogue version (``CatalogueVersion``: a token that every product change replaces in the
same transaction), the store currency, the filters and the page; a product's detail likewise, under the
version and its id. Stock is not part of anything kept: each product is kept as the JSON before and after
its ``stock`` value, and the stock of the page's products (or of the product) is read live from inventory
on every request, so no committed product or stock change is ever served stale.

On PostgreSQL the version is read in the same round trip as the stock (``ecommerce.db.read_alongside``):
a cached page or product costs one round trip; a list page rendered afresh adds one (the page with its
count), a product rendered afresh one (its row). Elsewhere the version is a query of its own. A list page
is looked up under the version this process saw last, so that its products' ids are known before the
version is read; a page kept under an older version is never served (the version read with the stock
decides, and the page is rendered again).

The JSON is written here with the wire's camelCase names directly, in the shape of ``ProductSerializer``
(a test holds the two together), rather than walked through a serializer and renamed on every request.
"""

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.paginator import EmptyPage, InvalidPage, PageNotAnInteger
from django.db import connections, router
from django.db.models import F, Func, IntegerField, Subquery
from django.utils.dateparse import parse_datetime

from catalog.errors import ProductNotFound
from catalog.images import links
from catalog.models import CatalogueVersion, Category, Product
from catalog.selectors import ProductFilters, available_stock, filter_products
from ecommerce.db import read_alongside
from ecommerce.money import quantize

# A product's fields in the order ``render_product`` takes them; its category's name comes by a join.
COLUMNS = (
    "id",
    "name",
    "description",
    "category__name",
    "sku",
    "price",
    "is_active",
    "created_at",
    "updated_at",
    "images",
)
# The catalogue version and ``COLUMNS`` of one active product (NULLs if there is none) in one plain SQL query
# (see ``catalogue_version``), so both from one snapshot: always one row; the category by a join.
VERSION_AND_PRODUCT_SQL = (
    f"SELECT (SELECT token FROM {CatalogueVersion._meta.db_table} WHERE id = 1), "  # noqa: S608 - names only
    + ", ".join("c.name" if column == "category__name" else f"p.{column}" for column in COLUMNS)
    + f" FROM (SELECT 1) AS one LEFT JOIN {Product._meta.db_table} p ON p.id = %s AND p.is_active"
    + f" LEFT JOIN {Category._meta.db_table} c ON c.id = p.category_id"
)
VERSION_SQL = f"SELECT token FROM {CatalogueVersion._meta.db_table} WHERE id = 1"  # noqa: S608 - constant
LAST_PAGE = "last"
COUNT_FIRST_FROM = 10_000  # an offset from which the count is read before the page (see ``_fetch_page``)
CACHED_PAGES = 4096  # pages and counts per process: about 8 KB each for pages of 20
CACHED_PRODUCTS = 20_000  # rendered products per process: about 0.5 KB each


@dataclass(frozen=True)
class RenderedProduct:
    """A product's JSON object, split around its ``stock`` value (which is filled in live)."""

    id: int
    head: bytes
    tail: bytes

    def with_stock(self, stock: int) -> bytes:
        return b"%s%d%s" % (self.head, stock, self.tail)


@dataclass(frozen=True)
class RenderedPage:
    """One page of the product list: its number, how many products match in all, and the results as a JSON array."""

    number: int
    count: int
    results: bytes


class _LRUCache:
    """A small least-recently-used map, private to the process (no round trip, no pickling on a hit)."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def set(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _LRUCache(CACHED_PAGES)
_products = _LRUCache(CACHED_PRODUCTS)
_NOT_FOR_SALE = RenderedProduct(id=0, head=b"", tail=b"")  # kept for an id with no active product
_latest = {"token": None}  # the catalogue version this process read last


def clear_cache() -> None:
    """Forget every page and product kept by this process, and the version it saw last (for a first request)."""
    _cache.clear()
    _products.clear()
    _latest["token"] = None


def _dumps(value) -> str:
    """JSON the way DRF's JSONRenderer writes it: compact, UTF-8, with U+2028/U+2029 escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _timestamp(value: datetime) -> str:
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def render_product(row: Sequence, *, currency: str) -> RenderedProduct:
    """A product row (``COLUMNS``, in order) as the JSON clients get, less its stock."""
    product_id, name, description, category, sku, price, is_active, created_at, updated_at, images = row
    head = _dumps(
        {
            "id": product_id,
            "name": name,
            "description": description,
            "category": category or "",
            "sku": sku,
            "price": f"{quantize(price):f}",
            "currency": currency,
        }
    )
    pictures = [
        {"thumbnailUrl": image.thumbnail_url, "detailUrl": image.detail_url, "alt": image.alt}
        for image in links(images)
    ]
    tail = _dumps(
        {
            "isActive": is_active,
            "createdAt": _timestamp(created_at),
            "updatedAt": _timestamp(updated_at),
            "images": pictures,
        }
    )
    return RenderedProduct(id=product_id, head=(head[:-1] + ',"stock":').encode(), tail=("," + tail[1:]).encode())


def _cursor(model):
    return connections[router.db_for_read(model)].cursor()


def _token(rows: list[tuple] | None) -> str:
    """The version token in the rows of ``VERSION_SQL`` ("" while the table has no row, e.g. after a flush)."""
    token = rows[0][0] if rows else ""
    _latest["token"] = token
    return token


def catalogue_version() -> str:
    """The current catalogue version token, in one query.

    Plain SQL, as the product row below: these run on every request, and the ORM costs several times the query.
    """
    with _cursor(CatalogueVersion) as cursor:
        cursor.execute(VERSION_SQL)
        return _token(cursor.fetchall())


def _version_and_stock(product_ids: list[int]) -> tuple[str, dict[int, int]]:
    """The catalogue version and the stock of ``product_ids`` now: one round trip on PostgreSQL, two elsewhere.

    The version is read first (in the same round trip): a product row read after it is never older than it.
    """
    with read_alongside(CatalogueVersion, VERSION_SQL) as version:
        stock = available_stock(product_ids=product_ids)
    return _token(version.rows), stock


def _aware(value: datetime | str) -> datetime:
    """A timestamp column as the ORM gives it (SQLite hands plain SQL a naive UTC value, or text)."""
    value = parse_datetime(value) if isinstance(value, str) else value
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _version_and_product_row(product_id: int) -> tuple[str, tuple | None]:
    """The catalogue version, and the active product's ``COLUMNS`` typed as the ORM would type them (or None)."""
    with _cursor(Product) as cursor:
        cursor.execute(VERSION_AND_PRODUCT_SQL, [product_id])
        token, *row = cursor.fetchone()
    token = _token([(token or "",)])
    if row[0] is None:
        return token, None
    *text, price, is_active, created_at, updated_at, images = row
    price = price if isinstance(price, Decimal) else Decimal(str(price))
    images = json.loads(images) if isinstance(images, str) else images
    return token, (*text, price, bool(is_active), _aware(created_at), _aware(updated_at), images)


def _page_number(page: str, count: int | None, page_size: int) -> int:
    """The page asked for, as Django's paginator reads it. Raises EmptyPage or PageNotAnInteger."""
    try:
        number = int(page)
    except ValueError:
        raise PageNotAnInteger(page) from None
    if number < 1 or (count is not None and number > _num_pages(count, page_size)):
        raise EmptyPage(page)
    return number


def _num_pages(count: int, page_size: int) -> int:
    return max(1, math.ceil(count / page_size))


def _count_of(filters: ProductFilters) -> Subquery:
    """``SELECT COUNT(*)`` of the matches as a subquery the database runs once, beside the page in the same query.

    Not ``COUNT(*) OVER ()``, which makes the database build every matching row before it can cut the page.
    """
    matches = filter_products(filters=filters).order_by()
    return Subquery(matches.annotate(n=Func(F("id"), function="COUNT")).values("n"), output_field=IntegerField())


def _fetch_page(filters: ProductFilters, offset: int, limit: int, count: int | None) -> tuple[list[tuple], int | None]:
    """The page's rows, and the count of all matches when it was not known (one query either way).

    A page past the middle of a known count is read backwards from the end, so that the rows the
    database walks through to reach it are never more than half the matches; for a deep page whose count
    is not known yet, the count is read first (two queries), as walking to it could cost more.
    """
    products = filter_products(filters=filters).values_list(*COLUMNS)
    if count is None and offset >= COUNT_FIRST_FROM:  # a deep page: count first, then maybe read from the end
        count = filter_products(filters=filters).count()
    if count is None:
        rows = list(products.annotate(matches=_count_of(filters))[offset : offset + limit])
        if rows:
            return [row[:-1] for row in rows], rows[0][-1]
        return [], (0 if offset == 0 else None)
    if offset >= count:
        return [], count
    if offset > count // 2:
        end = min(offset + limit, count)
        rows = list(products.reverse()[count - end : count - offset])
        rows.reverse()
        return rows, count
    return list(products[offset : offset + limit]), count


def _kept_page(token, currency, filters, page, page_size) -> tuple[int, int, list[RenderedProduct]] | None:
    """The page kept under version ``token`` (its number, the count, its products), or None."""
    count = _cache.get(("count", token, filters))
    if count is None:
        return None
    if page == LAST_PAGE:
        number = _num_pages(count, page_size)
    else:
        try:
            number = _page_number(page, count, page_size)
        except InvalidPage:
            return None
    products = _cache.get(("page", token, currency, filters, number, page_size))
    return None if products is None else (number, count, products)


def _page_of(products: list[RenderedProduct], stock: dict[int, int], number: int, count: int) -> RenderedPage:
    results = b"[" + b",".join(product.with_stock(stock[product.id]) for product in products) + b"]"
    return RenderedPage(number=number, count=count, results=results)


def product_list_page(*, filters: ProductFilters, page: str, page_size: int) -> RenderedPage:
    """A page of products matching ``filters`` (of which ``in_stock`` must be None), with their stock now.

    One round trip on PostgreSQL when the page is kept for the current catalogue version (two queries
    elsewhere); a page rendered afresh costs one more (the page with its count, or the page alone).
    Raises EmptyPage or PageNotAnInteger (both InvalidPage) for a page that does not exist.
    """
    if filters.in_stock is not None:
        raise ValueError("pages that depend on stock are not cached: use selectors.filter_products")
    currency = settings.STORE_CURRENCY
    guess = _latest["token"]
    kept = _kept_page(guess, currency, filters, page, page_size) if guess is not None else None
    stock: dict[int, int] = {}
    if kept is not None:
        number, count, products = kept
        token, stock = _version_and_stock([product.id for product in products])
        if token == guess:
            return _page_of(products, stock, number, count)
    else:
        token = catalogue_version()
    count_key = ("count", token, filters)
    count = _cache.get(count_key)
    if page == LAST_PAGE:
        if count is None:
            count = filter_products(filters=filters).count()
            _cache.set(count_key, count)
        number = _num_pages(count, page_size)
    else:
        number = _page_number(page, count, page_size)
    page_key = ("page", token, currency, filters, number, page_size)
    products = _cache.get(page_key)
    if products is None:
        rows, count = _fetch_page(filters, (number - 1) * page_size, page_size, count)
        if count is None or number > _num_pages(count, page_size):  # nothing from this offset on, not the first page
            raise EmptyPage(page)
        _cache.set(count_key, count)
        products = [render_product(row, currency=currency) for row in rows]
        _cache.set(page_key, products)
        for product in products:
            _products.set(("product", token, currency, product.id), product)
    ids = [product.id for product in products]
    if not stock.keys() >= set(ids):  # unless read just now, with the version (the same products, changed)
        stock = available_stock(product_ids=ids)
    return _page_of(products, stock, number, count)


def product_for_sale(*, product_id: int) -> bytes:
    """An active product with its stock now, as the JSON clients get. Raises ProductNotFound.

    Looked up under the catalogue version this process saw last: if kept there, one round trip on
    PostgreSQL (the version and the stock; two queries elsewhere) and served if the version agrees;
    otherwise two queries (the version with the product's row, then its stock), and kept.
    """
    currency = settings.STORE_CURRENCY
    guess = _latest["token"]
    product = _products.get(("product", guess, currency, product_id)) if guess is not None else None
    stock: dict[int, int] = {}
    if product is not None:
        token, stock = _version_and_stock([product_id])
        if token == guess:
            return _for_sale(product, stock)
    token, row = _version_and_product_row(product_id)
    product = _NOT_FOR_SALE if row is None else render_product(row, currency=currency)
    _products.set(("product", token, currency, product_id), product)
    if product is not _NOT_FOR_SALE and product_id not in stock:  # unless read just now, with the version
        stock = available_stock(product_ids=[product_id])
    return _for_sale(product, stock)


def _for_sale(product: RenderedProduct, stock: dict[int, int]) -> bytes:
    if product is _NOT_FOR_SALE:
        raise ProductNotFound()
    return product.with_stock(stock[product.id])
