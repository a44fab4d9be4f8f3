"""The customer-facing product JSON, rendered once per catalogue version and completed with live stock.

A product list is the hottest read of a shop, so its pages are kept rendered, per process, under a key
made of the catalogue version (``CatalogueVersion``: a token that every product change replaces in the
same transaction), the store currency, the filters and the page. Stock is not part of a rendered page: each
product is kept as the JSON before and after its ``stock`` value, and the stock of the page's products is
read live from inventory on every request. So a page costs two indexed queries when it is cached (the
version, the stock) and three when it is not (the version, the page with its count, the stock), and no
committed product or stock change is ever served stale.

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
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db import connections, router
from django.db.models import F, Func, IntegerField, Subquery
from django.utils.dateparse import parse_datetime

from catalog.errors import ProductNotFound
from catalog.images import links
from catalog.models import CatalogueVersion, Category, Product
from catalog.selectors import ProductFilters, available_stock, filter_products
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
# ``COLUMNS`` of one active product, in plain SQL (see ``catalogue_version``): the category by a join.
ACTIVE_PRODUCT_SQL = (
    "SELECT "  # noqa: S608 - table and column names only
    + ", ".join("c.name" if column == "category__name" else f"p.{column}" for column in COLUMNS)
    + f" FROM {Product._meta.db_table} p LEFT JOIN {Category._meta.db_table} c ON c.id = p.category_id"
    + " WHERE p.id = %s AND p.is_active"
)
LAST_PAGE = "last"
CACHED_ENTRIES = 4096  # pages and counts per process: about 8 KB each for pages of 20


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


_cache = _LRUCache(CACHED_ENTRIES)


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


def catalogue_version() -> str:
    """The current catalogue version token, in one query ("" while the table has no row, e.g. after a flush).

    Plain SQL, as the product row below: these run on every request, and the ORM costs several times the query.
    """
    with _cursor(CatalogueVersion) as cursor:
        cursor.execute(f"SELECT token FROM {CatalogueVersion._meta.db_table} WHERE id = 1")  # noqa: S608 - constant
        row = cursor.fetchone()
    return row[0] if row else ""


def _aware(value: datetime | str) -> datetime:
    """A timestamp column as the ORM gives it (SQLite hands plain SQL a naive UTC value, or text)."""
    value = parse_datetime(value) if isinstance(value, str) else value
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _active_product_row(product_id: int) -> tuple | None:
    """An active product's ``COLUMNS``, typed as the ORM would type them, or None."""
    with _cursor(Product) as cursor:
        cursor.execute(ACTIVE_PRODUCT_SQL, [product_id])
        row = cursor.fetchone()
    if row is None:
        return None
    *text, price, is_active, created_at, updated_at, images = row
    price = price if isinstance(price, Decimal) else Decimal(str(price))
    images = json.loads(images) if isinstance(images, str) else images
    return (*text, price, bool(is_active), _aware(created_at), _aware(updated_at), images)


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
    database walks through to reach it are never more than half the matches.
    """
    products = filter_products(filters=filters).values_list(*COLUMNS)
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


def product_list_page(*, filters: ProductFilters, page: str, page_size: int) -> RenderedPage:
    """A page of products matching ``filters`` (of which ``in_stock`` must be None), with their stock now.

    Two queries when the page is cached for the current catalogue version, three otherwise.
    Raises EmptyPage or PageNotAnInteger (both InvalidPage) for a page that does not exist.
    """
    if filters.in_stock is not None:
        raise ValueError("pages that depend on stock are not cached: use selectors.filter_products")
    token = catalogue_version()
    currency = settings.STORE_CURRENCY
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
        if count is None:  # nothing from this offset on, and it is not the first page
            raise EmptyPage(page)
        _cache.set(count_key, count)
        products = [render_product(row, currency=currency) for row in rows]
        _cache.set(page_key, products)
    stock = available_stock(product_ids=[product.id for product in products])
    results = b"[" + b",".join(product.with_stock(stock[product.id]) for product in products) + b"]"
    return RenderedPage(number=number, count=count, results=results)


def product_for_sale(*, product_id: int) -> bytes:
    """An active product with its stock now, as the JSON clients get, in two queries. Raises ProductNotFound."""
    row = _active_product_row(product_id)
    if row is None:
        raise ProductNotFound()
    product = render_product(row, currency=settings.STORE_CURRENCY)
    return product.with_stock(available_stock(product_ids=[product_id])[product_id])
