"""The shop's pages: thin views over the same services as the API, with Django's session login.

Every change is a POST protected by CSRF. Services take the shopper's id, so another user's order is
simply not found (404), as in the API. Domain errors become messages or form errors, never a 500.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as accounts
from cart import services as cart
from catalog import services as catalog
from ecommerce.errors import DomainError, NotFound
from ecommerce.urlpatterns import site_url
from orders import services as orders
from payments import services as payments
from storefront import guest_cart
from storefront.forms import (
    NEW_ADDRESS,
    AddressForm,
    AddToCartForm,
    DeliveryForm,
    LoginForm,
    ProductSearchForm,
    QuantityForm,
    RegisterForm,
    StripeCardForm,
    TestCardForm,
)
from storefront.pages import (
    auth_page,
    form_error,
    paged,
    safe_next,
    shop_page,
    shopper_required,
    throttle_wait,
    throttled_page,
    too_many_attempts_page,
)

PRODUCTS_PER_PAGE = 12
ORDERS_PER_PAGE = 10


# --- Helpers of these views -------------------------------------------------------------------


def _pictures(order) -> dict:
    """The pictures of an order's products (product id -> its pictures), in one query whatever its length."""
    return catalog.get_product_images(product_ids=[item.product_id for item in order.items])


def _product_names(user_id: int, product_ids) -> str:
    names = {item.product_id: item.name for item in cart.get_cart(user_id=user_id).items}
    return ", ".join(names.get(product_id, f"#{product_id}") for product_id in product_ids)


# --- Catalogue -----------------------------------------------------------------------------------


@require_GET
def product_list(request):
    form = ProductSearchForm(request.GET)
    form.is_valid()  # invalid fields are left out of cleaned_data and shown; the others still filter
    search = form.cleaned_data.get("q", "")
    category = form.cleaned_data.get("category", "")
    sort = form.cleaned_data.get("sort") or "id"
    in_stock = True if form.cleaned_data.get("in_stock") else None

    def fetch(offset, limit):
        return catalog.find_products(
            search=search, category=category, in_stock=in_stock, ordering=sort, offset=offset, limit=limit
        )

    page, pager = paged(request, PRODUCTS_PER_PAGE, fetch)
    return render(
        request,
        "storefront/product_list.html",
        {
            "form": form,
            "products": page.items,
            "pager": pager,
            "categories": catalog.list_categories(),
            "search": search,
            "category": category,
            "sort": form.cleaned_data.get("sort", ""),
            "sort_choices": catalog.SORT_CHOICES,
            "in_stock": bool(in_stock),
            "currency": settings.STORE_CURRENCY,
        },
    )


@require_GET
@shop_page
def product_detail(request, product_id: int):
    product = catalog.get_product_for_sale(product_id=product_id)
    return render(request, "storefront/product_detail.html", {"product": product, "currency": settings.STORE_CURRENCY})


# --- Cart ----------------------------------------------------------------------------------------


def _change_guest_cart(request, product_id: int, quantity: int) -> cart.CartView:
    """Set a product's quantity in a visitor's cart (0 removes it), checked as a customer's cart is.

    Raises cart's ProductNotFound, QuantityTooLarge or InsufficientStock (the cart is then unchanged).
    """
    lines = guest_cart.lines(request)
    if not quantity:
        lines.pop(product_id, None)
        view = cart.price_lines(lines=lines)
    else:
        if product_id not in lines and len(lines) >= guest_cart.MAX_LINES:
            raise DomainError("Your cart is full. Log in or check out to keep more.")
        lines[product_id] = quantity
        view = cart.price_lines(lines=lines, changed=product_id)
    guest_cart.save(request, lines)
    return view


def _merge_guest_cart(request) -> None:
    """Move a visitor's cart into the account they just logged in to or created, saying what was capped."""
    lines = guest_cart.take(request)
    if not lines:
        return
    merged = cart.merge_into_cart(user_id=request.user.id, lines=lines)
    units = merged.cart.total_quantity
    messages.info(request, f"The items you chose are in your cart ({units} item{pluralize(units)} in the cart).")
    names = {item.product_id: item.name for item in merged.cart.items}
    if merged.capped:
        capped = ", ".join(names.get(product_id, f"#{product_id}") for product_id in merged.capped)
        messages.warning(request, f"Some quantities were lowered to what is available: {capped}.")
    if merged.left_out:
        messages.warning(request, "Some products you chose are no longer available and were left out.")


@require_GET
def cart_detail(request):
    if request.user.is_authenticated:
        view = cart.get_cart(user_id=request.user.id)
    else:
        view = cart.price_lines(lines=guest_cart.lines(request))
    return render(request, "storefront/cart.html", {"cart": view})


@require_POST
@shop_page
def cart_add(request):
    form = AddToCartForm(request.POST)
    back = safe_next(request, request.POST.get("next")) or reverse("storefront:product-list")
    if not form.is_valid():
        messages.error(request, "Choose a quantity of at least 1.")
        return redirect(back)
    product_id, quantity = form.cleaned_data["product_id"], form.cleaned_data["quantity"]
    try:
        if request.user.is_authenticated:
            view = cart.add_to_cart(user_id=request.user.id, product_id=product_id, quantity=quantity)
        else:
            view = _change_guest_cart(request, product_id, guest_cart.lines(request).get(product_id, 0) + quantity)
    except NotFound:
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    name = next((item.name for item in view.items if item.product_id == product_id), "The product")
    items = f"{view.total_quantity} item{pluralize(view.total_quantity)}"
    messages.success(request, f"{name} was added to your cart ({items} in the cart).")
    return redirect(back)


@require_POST
@shop_page
def cart_set_quantity(request, product_id: int):
    form = QuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a quantity of 0 or more.")
        return redirect("storefront:cart")
    try:
        quantity = form.cleaned_data["quantity"]
        if request.user.is_authenticated:
            cart.set_cart_quantity(user_id=request.user.id, product_id=product_id, quantity=quantity)
        elif product_id not in guest_cart.lines(request):
            raise cart.NotInCart()
        else:
            _change_guest_cart(request, product_id, quantity)
    except NotFound:
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your cart was updated.")
    return redirect("storefront:cart")


@require_POST
@shop_page
def cart_remove(request, product_id: int):
    if request.user.is_authenticated:
        cart.remove_from_cart(user_id=request.user.id, product_id=product_id)
    elif product_id not in guest_cart.lines(request):
        raise cart.NotInCart()
    else:
        _change_guest_cart(request, product_id, 0)
    messages.success(request, "The product was removed from your cart.")
    return redirect("storefront:cart")


# --- Checkout, orders and payment ------------------------------------------------------------------


def _place_order(request, delivery: DeliveryForm, address_form: AddressForm) -> HttpResponse | None:
    """Check out with the chosen address and shipping method; a redirect, or None when a form shows an error."""
    address_id = delivery.saved_address_id
    address = None if address_id is not None else address_form.address()
    try:
        order = orders.checkout(
            user_id=request.user.id,
            shipping_address=address,
            address_id=address_id,
            shipping_method_id=delivery.cleaned_data["shipping_method"],
        )
    except orders.CartEmpty:
        messages.info(request, "Your cart is empty: nothing to check out.")
        return redirect("storefront:cart")
    except accounts.AddressNotFound:
        delivery.add_error("address_choice", "This address is no longer in your address book.")
        return None
    except orders.ShippingMethodUnavailable as error:
        delivery.add_error("shipping_method", error.message)
        return None
    except DomainError as error:  # insufficient stock: the cart is unchanged, so it can name the products
        product_ids = error.extra.get("product_ids", [])
        names = f" ({_product_names(request.user.id, product_ids)})" if product_ids else ""
        messages.error(request, f"{error.message.removesuffix('.')}{names}. Please change your cart.")
        return redirect("storefront:cart")
    if address is not None and delivery.cleaned_data["save_address"]:
        try:
            accounts.add_address(user_id=request.user.id, address=address)
        except accounts.AddressBookFull as error:
            messages.warning(request, error.message)
    messages.success(request, f"Order #{order.id} is placed and its items are reserved for you.")
    return redirect("storefront:order-pay", order_id=order.id)


@require_http_methods(["GET", "POST"])
@shopper_required
@shop_page
def checkout(request):
    view = cart.get_cart(user_id=request.user.id)
    if not view.items:
        message = "Your cart is empty: nothing to check out." if request.method == "POST" else "Your cart is empty."
        messages.info(request, message)
        return redirect("storefront:cart")
    saved = accounts.list_addresses(user_id=request.user.id)
    options = orders.list_shipping_options(subtotal=view.subtotal)
    data = request.POST if request.method == "POST" else None
    delivery = DeliveryForm(data, saved_addresses=saved, shipping_options=options)
    address_form = AddressForm(data)
    address_given = request.method == "POST" and delivery.is_valid()
    if address_given and (delivery.saved_address_id is not None or address_form.is_valid()):
        placed = _place_order(request, delivery, address_form)
        if placed is not None:
            return placed
    return render(
        request,
        "storefront/checkout.html",
        {
            "cart": view,
            "reservation_minutes": settings.RESERVATION_TTL_MINUTES,
            "delivery": delivery,
            "address_form": address_form,
            "saved_addresses": saved,
            "shipping_options": options,
            "new_address": NEW_ADDRESS,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@shopper_required
def order_list(request):
    def fetch(offset, limit):
        return orders.list_orders(user_id=request.user.id, offset=offset, limit=limit)

    page, pager = paged(request, ORDERS_PER_PAGE, fetch)
    return render(request, "storefront/order_list.html", {"orders": page.items, "pager": pager})


@require_GET
@shopper_required
@shop_page
def order_detail(request, order_id: int):
    order = orders.get_order(order_id=order_id, user_id=request.user.id)
    attempts = payments.list_payments(order_id=order_id, user_id=request.user.id)
    context = {"order": order, "payments": attempts, "pictures": _pictures(order)}
    return render(request, "storefront/order_detail.html", context)


def _card_mode() -> str:
    """``elements`` (Stripe.js collects the card) with the Stripe gateway and a publishable key, else ``test_cards``."""
    if settings.PAYMENT_GATEWAY == "stripe" and settings.STRIPE_PUBLISHABLE_KEY:
        return "elements"
    return "test_cards"


@require_http_methods(["GET", "POST"])
@shopper_required
@shop_page
def order_pay(request, order_id: int):
    try:
        order = orders.get_payable_order(order_id=order_id, user_id=request.user.id)
    except orders.AlreadyPaid:
        messages.info(request, "This order is paid already.")
        return redirect("storefront:order-detail", order_id=order_id)
    except orders.OrderNotPayable as error:
        messages.error(request, error.message)
        return redirect("storefront:order-detail", order_id=order_id)

    mode = _card_mode()
    form_class = StripeCardForm if mode == "elements" else TestCardForm
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        wait = throttle_wait(request, "payment")
        if wait is not None:  # card testing through the shop meets the API's limit
            messages.error(request, f"Too many payment attempts. Please try again in {wait} seconds.")
            return redirect("storefront:order-pay", order_id=order_id)
        try:
            payments.pay_order(user_id=request.user.id, order_id=order_id, token=form.cleaned_data["token"])
        except NotFound:
            raise
        except (orders.AlreadyPaid, orders.OrderNotPayable) as error:
            messages.error(request, error.message)
            return redirect("storefront:order-detail", order_id=order_id)
        except DomainError as error:  # declined card, bad token, provider unavailable: the shopper may retry
            messages.error(request, error.message)
            return redirect("storefront:order-pay", order_id=order_id)
        messages.success(request, f"Thank you! Order #{order_id} is paid.")
        return redirect("storefront:order-detail", order_id=order_id)

    return render(
        request,
        "storefront/payment.html",
        {
            "order": order,
            "pictures": _pictures(order),
            "form": form,
            "card_mode": mode,
            "gateway": settings.PAYMENT_GATEWAY,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY if mode == "elements" else "",
            "payments": payments.list_payments(order_id=order_id, user_id=request.user.id),
            "email_verified": accounts.get_user(user_id=request.user.id).email_verified,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@shopper_required
@shop_page
def order_cancel(request, order_id: int):
    try:
        orders.cancel_order(order_id=order_id, user_id=request.user.id)
    except NotFound:
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Order #{order_id} is cancelled and its items are back on sale.")
    return redirect("storefront:order-detail", order_id=order_id)


# --- Accounts ------------------------------------------------------------------------------------


def _after_login(request: HttpRequest) -> HttpResponse:
    return redirect(safe_next(request, request.POST.get("next")) or reverse("storefront:product-list"))


@require_http_methods(["GET", "POST"])
def log_in(request):
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        refused = throttled_page(request, "storefront/login.html", form)
        if refused is not None:
            return refused
        if form.is_valid():
            locked_for = accounts.login_lockout_seconds(email=form.cleaned_data["email"])
            if locked_for:
                return too_many_attempts_page(request, "storefront/login.html", form, locked_for)
            user = authenticate(request, email=form.cleaned_data["email"], password=form.cleaned_data["password"])
            if user is not None:
                login(request, user)
                messages.success(request, f"Welcome back, {user.name}.")
                _merge_guest_cart(request)
                return _after_login(request)
            form_error(form, accounts.InvalidCredentials())
        return auth_page(request, "storefront/login.html", form, status=400)
    return auth_page(request, "storefront/login.html", form)


@require_http_methods(["GET", "POST"])
def register(request):
    form = RegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        refused = throttled_page(request, "storefront/register.html", form)
        if refused is not None:
            return refused
        if form.is_valid():
            try:
                accounts.register_user(**form.cleaned_data, site_url=site_url(request))
            except DomainError as error:
                form_error(form, error)
            else:  # the same page whether the email is new or had an account
                return render(request, "storefront/check_email.html", {"email": form.cleaned_data["email"]})
        return auth_page(request, "storefront/register.html", form, status=400)
    return auth_page(request, "storefront/register.html", form)


@require_POST
def log_out(request):
    logout(request)
    messages.info(request, "You are logged out.")
    return redirect("storefront:product-list")
