"""Carts: one per user, priced at current prices. The public interface of this app.

Every read or write costs a fixed number of queries whatever the number of lines: the cart's
lines, then one batch call each to catalog (prices) and inventory (stock).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, connections, router
from django.db.models import Sum
from django.utils import timezone

from cart.errors import NotInCart, QuantityTooLarge
from cart.models import MAX_LINE_QUANTITY, Cart, CartLine, TakenLines
from catalog import services as catalog
from ecommerce.db import atomic
from ecommerce.money import MAX_AMOUNT, AmountTooLarge, quantize
from inventory import services as inventory
from inventory.services import InsufficientStock
from outbox import services as outbox

__all__ = [
    "MAX_LINE_QUANTITY",
    "CartEntry",
    "CartItem",
    "CartView",
    "MergeResult",
    "NotInCart",
    "QuantityTooLarge",
    "TakenCheckout",
    "add_to_cart",
    "clear_cart",
    "count_units",
    "forget_taken_lines",
    "get_cart",
    "list_taken_lines",
    "merge_into_cart",
    "price_lines",
    "remove_from_cart",
    "return_taken_lines",
    "set_cart_quantity",
    "take_cart_lines",
]


@dataclass(frozen=True)
class CartItem:
    product_id: int
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    stock: int


@dataclass(frozen=True)
class CartView:
    items: list[CartItem]
    total_quantity: int
    subtotal: Decimal
    currency: str
    updated_at: datetime | None


@dataclass(frozen=True)
class CartEntry:
    """What checkout needs of a cart line."""

    product_id: int
    quantity: int


def _priced(lines: dict[int, int], updated_at: datetime | None, *, changed: int | None = None) -> CartView:
    """Price ``{product_id: quantity}`` at current prices, with the stock available now.

    When ``changed`` names a product whose quantity was just set, it is checked too: it must be on
    sale (else ProductNotFound) and in stock (else InsufficientStock).
    """
    products = catalog.get_products(product_ids=lines)
    stock = inventory.get_available_stock(product_ids=lines)
    items = []
    for product_id, quantity in lines.items():
        product = products.get(product_id)
        on_sale = product is not None and product.is_active
        if product_id == changed and not on_sale:
            catalog.get_active_product(product_id=product_id)  # raises ProductNotFound
        if product is None:
            continue
        available = stock.get(product_id, 0) if on_sale else 0  # withdrawn products: none to buy
        if product_id == changed and quantity > available:
            raise InsufficientStock(
                f"Only {available} available.", extra={"product_ids": [product_id], "available": available}
            )
        unit_price = quantize(product.price)
        items.append(
            CartItem(product_id, product.name, unit_price, quantity, quantize(unit_price * quantity), available)
        )
    return CartView(
        items=items,
        total_quantity=sum(item.quantity for item in items),
        subtotal=quantize(sum((item.line_total for item in items), Decimal("0"))),
        currency=settings.STORE_CURRENCY,
        updated_at=updated_at,
    )


def _locked_cart(user_id: int) -> tuple[Cart, dict[int, int]]:
    """The user's cart, created if missing, locked (and touched) until the transaction ends, and its lines.

    One conditional UPDATE locks and touches the row (its count tells whether the cart exists), one read gets
    the cart's id with its lines.
    """
    now = timezone.now()
    carts = Cart.objects.filter(user_id=user_id)
    if not carts.update(updated_at=now):
        try:
            with atomic("cart"):
                return Cart.objects.create(user_id=user_id), {}
        except IntegrityError:  # a concurrent request created it first: wait for it, then lock it
            carts.update(updated_at=now)
    rows = carts.order_by("lines__added_at", "lines__id").values_list("id", "lines__product_id", "lines__quantity")
    lines = {product_id: quantity for _, product_id, quantity in rows if product_id is not None}
    return Cart(id=rows[0][0], user_id=user_id, updated_at=now), lines


def get_cart(*, user_id: int) -> CartView:
    """The user's cart priced at current prices (an empty cart if they have none)."""
    rows = (
        Cart.objects.filter(user_id=user_id)
        .order_by("lines__added_at", "lines__id")
        .values_list("updated_at", "lines__product_id", "lines__quantity")
    )  # the cart with its lines, in one query
    if not rows:
        return _priced({}, None)
    return _priced({product_id: quantity for _, product_id, quantity in rows if product_id is not None}, rows[0][0])


def _save_quantity(cart: Cart, lines: dict[int, int], product_id: int, quantity: int) -> CartView:
    """Check and store a line's new quantity, returning the cart as it now is."""
    if quantity > MAX_LINE_QUANTITY:
        raise QuantityTooLarge(attr="quantity")
    previous = lines.get(product_id)
    lines[product_id] = quantity
    view = _priced(lines, cart.updated_at, changed=product_id)
    if view.subtotal > MAX_AMOUNT and quantity > (previous or 0):  # shrinking an over-limit cart stays allowed
        raise AmountTooLarge(f"The cart's subtotal (and so each line) may be at most {MAX_AMOUNT}.")
    if previous is not None:
        CartLine.objects.filter(cart_id=cart.id, product_id=product_id).update(quantity=quantity)
    else:
        CartLine.objects.create(cart_id=cart.id, product_id=product_id, quantity=quantity)
    return view


@atomic("cart")
def add_to_cart(*, user_id: int, product_id: int, quantity: int) -> CartView:
    """Add ``quantity`` units to what the cart already holds of a product on sale.

    Raises ProductNotFound, QuantityTooLarge, InsufficientStock, or AmountTooLarge when the line or the
    cart would cost more than MAX_AMOUNT (the cart is then unchanged).
    """
    cart, lines = _locked_cart(user_id)
    return _save_quantity(cart, lines, product_id, lines.get(product_id, 0) + quantity)


@atomic("cart")
def set_cart_quantity(*, user_id: int, product_id: int, quantity: int) -> CartView:
    """Set the quantity of a product already in the cart; 0 removes it.

    Raises NotInCart, ProductNotFound, QuantityTooLarge, InsufficientStock or (when the quantity grows)
    AmountTooLarge.
    """
    cart, lines = _locked_cart(user_id)
    if product_id not in lines:
        raise NotInCart()
    if quantity:
        return _save_quantity(cart, lines, product_id, quantity)
    CartLine.objects.filter(cart_id=cart.id, product_id=product_id).delete()
    del lines[product_id]
    return _priced(lines, cart.updated_at)


def remove_from_cart(*, user_id: int, product_id: int) -> CartView:
    """Remove a product from the cart. Raises NotInCart."""
    return set_cart_quantity(user_id=user_id, product_id=product_id, quantity=0)


@atomic("cart")
def clear_cart(*, user_id: int) -> CartView:
    """Empty the user's cart."""
    cart, _ = _locked_cart(user_id)
    CartLine.objects.filter(cart_id=cart.id).delete()
    return _priced({}, cart.updated_at)


@dataclass(frozen=True)
class TakenCheckout:
    """A checkout's lines taken out of a cart (``token`` names the checkout), and when they were taken."""

    token: UUID
    user_id: int
    entries: list[CartEntry]
    taken_at: datetime


def _taken(row: TakenLines) -> TakenCheckout:
    entries = [CartEntry(product_id, quantity) for product_id, quantity in row.lines]
    return TakenCheckout(token=row.token, user_id=row.user_id, entries=entries, taken_at=row.taken_at)


@atomic("cart")
def take_cart_lines(*, user_id: int, token: UUID, new_token: bool = False) -> list[CartEntry]:
    """Empty the user's cart for the checkout ``token`` and return what it held (kept aside until
    ``forget_taken_lines`` or ``return_taken_lines``). A second call with the same token returns the same lines;
    ``new_token``: a token never given before (no earlier call to look for).

    The cart's lock makes a concurrent checkout of the same cart wait, then find it empty.
    """
    cart, lines = _locked_cart(user_id)
    taken = None if new_token else TakenLines.objects.filter(token=token, user_id=user_id).first()
    if taken is None:
        if not lines:
            return []
        taken = TakenLines.objects.create(token=token, user_id=user_id, lines=list(lines.items()))
        CartLine.objects.filter(cart_id=cart.id).delete()
    return _taken(taken).entries


@atomic("cart")
def return_taken_lines(*, token: UUID) -> bool:
    """Put a failed checkout's lines back into the cart (added to what it holds now, within the line limit).

    Safe to repeat; False when there was nothing to give back.
    """
    taken = TakenLines.objects.select_for_update().filter(token=token).first()
    if taken is None:
        return False
    cart, current = _locked_cart(taken.user_id)
    for product_id, quantity in taken.lines:
        CartLine.objects.update_or_create(
            cart_id=cart.id,
            product_id=product_id,
            defaults={"quantity": min(current.get(product_id, 0) + quantity, MAX_LINE_QUANTITY)},
        )
    taken.delete()
    return True


def forget_taken_lines(*, token: UUID) -> None:
    """The checkout ``token`` placed its order: its lines are not coming back. Safe to repeat.

    One DELETE, without the transaction that ``QuerySet.delete`` opens around it (nothing cascades from the row).
    """
    connection = connections[router.db_for_write(TakenLines)]
    table = connection.ops.quote_name(TakenLines._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE token = %s",  # noqa: S608 - no client text
            [TakenLines._meta.pk.get_db_prep_value(token, connection)],
        )


def list_taken_lines(*, taken_before: datetime) -> list[TakenCheckout]:
    """The checkouts that took their lines before ``taken_before`` and neither placed an order nor failed
    since (their process died): for the consistency check to settle."""
    return [_taken(row) for row in TakenLines.objects.filter(taken_at__lt=taken_before).order_by("taken_at")]


def on_order_placed(event: outbox.Event) -> None:
    """``order.placed``: the lines its checkout took are the order's now."""
    forget_taken_lines(token=UUID(event.payload["checkout"]))


# --- Guest carts (kept by the shop in the visitor's session) and their merge on login ------------------


def price_lines(*, lines: dict[int, int], changed: int | None = None) -> CartView:
    """A cart that is not stored here (a visitor's), priced like a user's: withdrawn products are left out.

    With ``changed``, that product's quantity is checked as ``add_to_cart`` checks it. Raises
    ProductNotFound, QuantityTooLarge or InsufficientStock.
    """
    if changed is not None and lines.get(changed, 0) > MAX_LINE_QUANTITY:
        raise QuantityTooLarge(attr="quantity")
    return _priced(dict(lines), None, changed=changed)


@dataclass(frozen=True)
class MergeResult:
    """The user's cart after a merge, and the products whose quantity was lowered to fit stock or the line limit."""

    cart: CartView
    capped: list[int]
    left_out: list[int]


@atomic("cart")
def merge_into_cart(*, user_id: int, lines: dict[int, int]) -> MergeResult:
    """Add a visitor's cart to the user's: quantities are added, each capped by the stock available and the
    line limit; products no longer on sale (or with no stock) are left out. Both are reported.
    """
    cart, current = _locked_cart(user_id)
    wanted = {product_id: current.get(product_id, 0) + quantity for product_id, quantity in lines.items()}
    products = catalog.get_products(product_ids=wanted)
    stock = inventory.get_available_stock(product_ids=wanted)
    capped, left_out = [], []
    for product_id, quantity in wanted.items():
        product = products.get(product_id)
        available = stock.get(product_id, 0) if product is not None and product.is_active else 0
        allowed = min(quantity, available, MAX_LINE_QUANTITY)
        if allowed <= current.get(product_id, 0):
            if allowed < quantity:
                (capped if current.get(product_id) else left_out).append(product_id)
            continue
        if allowed < quantity:
            capped.append(product_id)
        if product_id in current:
            CartLine.objects.filter(cart_id=cart.id, product_id=product_id).update(quantity=allowed)
        else:
            CartLine.objects.create(cart_id=cart.id, product_id=product_id, quantity=allowed)
        current[product_id] = allowed
    return MergeResult(cart=_priced(current, cart.updated_at), capped=capped, left_out=left_out)


def count_units(*, user_id: int) -> int:
    """How many units the user's cart holds (what the shop's header shows), in one query."""
    total = CartLine.objects.filter(cart__user_id=user_id).aggregate(units=Sum("quantity"))["units"]
    return total or 0


def on_account_deleted(event: outbox.Event) -> None:
    """``account.deleted``: the cart of a deleted account is dropped."""
    Cart.objects.filter(user_id=event.payload["user_id"]).delete()
