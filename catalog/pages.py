"""The customer-facing product JSON, rendered once per catalogue version and completed with live stock.

A product list is the hottest read of a shop, so its pages are kept rendered, per process, under a key
made of the catalogue version (``CatalogueVersion``: a token that every product change replaces in the
same transaction), the store currency, the filters and the page; a product's detail likewise, under the
version and its id. Stock is not part of anything kept: each product is kept as the JSON before and after
its ``stock`` value, and the stock of the page's products (or of the product) is read live from inventory
on every request, so no committed product or stock change is ever served stale.

On PostgreSQL the version is read in the same round trip as the stock (``ecommerce.db.read_alongside``):
a cached page or product costs one round trip; a list page rendered afresh adds one (the page with its
bounded count), a product rendered afresh one (its row). Elsewhere the version is a query of its own. A list page
is looked up under the version this process saw last, so that its products' ids are known before the
version is read; a page kept under an older version is never served (the version read with the stock
decides, and the page is rendered again).

A page is asked for by number or after a cursor (``nextCursor``: the sort key and id of the last product of
the page before, signed), which the database finds through an index whatever the depth. How many products
match is counted up to ``COUNT_LIMIT`` with the page: past that, the count is a lower bound (``Count``), so
that no fresh page pays a ``COUNT(*)`` of the whole catalogue; only a page number past it does. Staff's lists
(withdrawn products too) are kept the same way; a list filtered on stock (``in_stock``) is read afresh each time.

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
from django.core import signing
from django.core.paginator import EmptyPage, InvalidPage, PageNotAnInteger
from django.db import connections, router
from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from catalog.errors import InvalidCursor, ProductNotFound
from catalog.images import links
from catalog.models import CatalogueVersion, Category, Product
from catalog.selectors import ProductFilters, after, available_stock, filter_products
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
# Matches are counted up to this many; past it, the count is reported as "at least" (``Count``), so that a
# fresh page does not pay a COUNT(*) of the whole catalogue: 1,000,000 products cost 60-110 ms, 10,001 1-3 ms.
COUNT_LIMIT = 10_000
CURSOR_SALT = "catalog.pages.cursor"
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
class Count:
    """How many products a list has: ``value`` if ``exact``, else more than ``value`` (``COUNT_LIMIT``)."""

    value: int
    exact: bool


@dataclass(frozen=True)
class KeptPage:
    """A page's products as kept, and the cursor of the products after them (None: the list ends there)."""

    products: list[RenderedProduct]
    next_cursor: str | None


@dataclass(frozen=True)
class RenderedPage:
    """One page of the product list: its number (None when read after a cursor), how many products match in
    all, the cursor of the products after it (None at the end), and the results as a JSON array."""

    number: int | None
    count: Count
    next_cursor: str | None
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


def _page_number(page: str, count: Count | None, page_size: int) -> int:
    """The page asked for, as Django's paginator reads it. Raises EmptyPage or PageNotAnInteger."""
    try:
        number = int(page)
    except ValueError:
        raise PageNotAnInteger(page) from None
    if number < 1 or (count is not None and count.exact and number > _num_pages(count.value, page_size)):
        raise EmptyPage(page)
    return number


def _num_pages(count: int, page_size: int) -> int:
    return max(1, math.ceil(count / page_size))


def _counted(matches: int) -> Count:
    """The count of a bounded count (``_bounded_count``) that found ``matches`` rows."""
    return Count(value=min(matches, COUNT_LIMIT), exact=matches <= COUNT_LIMIT)


def _bounded_count(matches: QuerySet) -> RawSQL:
    """``SELECT COUNT(*)`` of at most ``COUNT_LIMIT + 1`` of ``matches``, as a subquery the database runs once,
    beside the page in the same query: its cost stops growing with the catalogue at ``COUNT_LIMIT`` rows.
    """
    capped = matches.order_by().values("id")[: COUNT_LIMIT + 1]
    sql, params = capped.query.get_compiler(capped.db).as_sql()
    count = f"SELECT COUNT(*) FROM ({sql}) AS capped"  # noqa: S608 - the ORM's own SQL, its values as parameters
    return RawSQL(count, params, output_field=IntegerField())  # noqa: S611


def _exact_count(filters: ProductFilters, count: Count | None) -> Count:
    return count if count is not None and count.exact else Count(filter_products(filters=filters).count(), True)


def _fetch_page(
    filters: ProductFilters, position: tuple | None, offset: int, limit: int, count: Count | None
) -> tuple[list[tuple], Count | None, bool]:
    """The rows of the page at ``offset`` (or after the cursor's ``position``), the count of all matches (read
    with the page, bounded, when not known), and whether more rows follow; one query (two at the end of a list
    read by cursor whose count was not known). The count is None for a page past the end whose count is unknown.

    A page past the middle of an exact count is read backwards from the end, so that the rows the database
    walks through to reach it are never more than half the matches.
    """
    matches = filter_products(filters=filters)
    products = matches.values_list(*COLUMNS)
    if position is not None:
        products = products.filter(after(filters=filters, value=position[0], product_id=position[1]))
    elif count is not None and count.exact and offset > count.value // 2:
        end = min(offset + limit, count.value)
        rows = list(products.reverse()[count.value - end : count.value - offset])
        rows.reverse()
        return rows, count, end < count.value
    if count is None:
        products = products.annotate(matches=_bounded_count(matches))
    rows = list(products[offset : offset + limit + 1])
    if count is None and rows:
        count = _counted(rows[0][-1])
        rows = [row[:-1] for row in rows]
    elif count is None and position is not None:
        count = _counted(matches.order_by().values("id")[: COUNT_LIMIT + 1].count())
    elif count is None and offset == 0:
        count = Count(0, True)
    return rows[:limit], count, len(rows) > limit


def _kept_page(token, currency, filters, page, page_size, position) -> tuple[int | None, Count, KeptPage] | None:
    """The page kept under version ``token`` (its number, None after a cursor; the count; the page), or None."""
    count = _cache.get(("count", token, filters))
    if count is None:
        return None
    if position is not None:
        kept = _cache.get(("after", token, currency, filters, position, page_size))
        return None if kept is None else (None, count, kept)
    if page == LAST_PAGE:
        if not count.exact:
            return None
        number = _num_pages(count.value, page_size)
    else:
        try:
            number = _page_number(page, count, page_size)
        except InvalidPage:
            return None
    kept = _cache.get(("page", token, currency, filters, number, page_size))
    return None if kept is None else (number, count, kept)


def _page_of(kept: KeptPage, stock: dict[int, int], number: int | None, count: Count) -> RenderedPage:
    results = b"[" + b",".join(product.with_stock(stock[product.id]) for product in kept.products) + b"]"
    return RenderedPage(number=number, count=count, next_cursor=kept.next_cursor, results=results)


def product_list_page(*, filters: ProductFilters, page: str, page_size: int, cursor: str = "") -> RenderedPage:
    """A page of products matching ``filters``, with their stock now: page number ``page``, or with a ``cursor``
    (a page's ``next_cursor``) the ``page_size`` products after it.

    Kept per catalogue version, unless ``in_stock`` filters it (what matches changes with the stock). One round
    trip on PostgreSQL when the page is kept for the current catalogue version (two queries elsewhere); a page
    rendered afresh costs one more (the page with its bounded count, or the page alone; a page number past
    ``COUNT_LIMIT`` matches also the exact count). Raises EmptyPage or PageNotAnInteger (both InvalidPage) for
    a page that does not exist, InvalidCursor for a cursor not given by this list for this ordering.
    """
    position = _position(cursor, filters.ordering) if cursor else None
    currency = settings.STORE_CURRENCY
    if filters.in_stock is not None:
        return _fresh_page(None, _LRUCache(2), currency, filters, page, page_size, position, {})
    guess = _latest["token"]
    kept = _kept_page(guess, currency, filters, page, page_size, position) if guess is not None else None
    stock: dict[int, int] = {}
    if kept is not None:
        number, count, kept_page = kept
        token, stock = _version_and_stock([product.id for product in kept_page.products])
        if token == guess:
            return _page_of(kept_page, stock, number, count)
    else:
        token = catalogue_version()
    return _fresh_page(token, _cache, currency, filters, page, page_size, position, stock)


def _fresh_page(token, store, currency, filters, page, page_size, position, stock) -> RenderedPage:
    """The page under version ``token``, from ``store`` or read and kept there, with the stock (unless in
    ``stock``, read with the version just now)."""
    count_key = ("count", token, filters)
    count = store.get(count_key)
    number, offset = None, 0
    if position is not None:
        page_key = ("after", token, currency, filters, position, page_size)
    else:
        if page == LAST_PAGE:
            count = _exact_count(filters, count)
            number = _num_pages(count.value, page_size)
        else:
            number = _page_number(page, count, page_size)
        offset = (number - 1) * page_size
        if offset >= COUNT_LIMIT:  # past where the bounded count reaches: whether the page exists needs all of it
            count = _exact_count(filters, count)
            if number > _num_pages(count.value, page_size):
                raise EmptyPage(page)
        page_key = ("page", token, currency, filters, number, page_size)
    kept = store.get(page_key)
    if kept is None or count is None:
        rows, count, more = _fetch_page(filters, position, offset, page_size, count)
        if count is None or (not rows and offset):  # nothing from this offset on, not the first page
            raise EmptyPage(page)
        products = [render_product(row, currency=currency) for row in rows]
        kept = KeptPage(products=products, next_cursor=_cursor_after(rows[-1], filters.ordering) if more else None)
        store.set(page_key, kept)
        if store is _cache and filters.is_active:  # only active products are kept for their detail
            for product in products:
                _products.set(("product", token, currency, product.id), product)
    store.set(count_key, count)
    ids = [product.id for product in kept.products]
    if not stock.keys() >= set(ids):  # unless read just now, with the version (the same products, changed)
        stock = available_stock(product_ids=ids)
    return _page_of(kept, stock, number, count)


def _cursor_after(row: Sequence, ordering: str) -> str:
    """The cursor of the products after ``row`` (``COLUMNS``) in ``ordering``: its sort key and id, signed, so that
    a cursor the list did not give is refused rather than read."""
    value = row[COLUMNS.index(ordering.removeprefix("-"))]
    if isinstance(value, datetime):
        value = _aware(value).isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    return signing.Signer(salt=CURSOR_SALT).sign_object([ordering, value, row[0]])


def _position(cursor: str, ordering: str) -> tuple:
    """The (sort key, id) a cursor of ``_cursor_after`` stands for. Raises InvalidCursor."""
    try:
        sort, value, product_id = signing.Signer(salt=CURSOR_SALT).unsign_object(cursor)
    except (signing.BadSignature, ValueError, TypeError):  # not ours, altered, or not even base64/JSON
        raise InvalidCursor(attr="cursor") from None
    if sort != ordering:
        raise InvalidCursor("This cursor is for another ordering.", attr="cursor")
    field = ordering.removeprefix("-")
    typed = {"price": Decimal, "created_at": datetime.fromisoformat}.get(field, lambda text: text)
    return typed(value), product_id


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
