"""What the shop's pages share: error pages, the login requirement, safe redirects, paging, the rate limit."""

import math
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from ecommerce.errors import DomainError, NotFound
from ecommerce.throttling import seconds_until_allowed


def not_found_page(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(request, "storefront/not_found.html", {"message": error.message}, status=404)


def shop_page(view):
    """Render an unknown (or someone else's) object as the shop's 404 page, and any other domain error as a
    page naming it, so that no input a shopper can send ends in a server error."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            return not_found_page(request, error)
        except DomainError as error:
            return render(request, "storefront/error.html", {"message": error.message}, status=error.status)

    return wrapper


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    """``url`` if it is a path on this site (never an open redirect), else None."""
    hosts = {request.get_host()}
    return url if url and url_has_allowed_host_and_scheme(url, hosts, require_https=request.is_secure()) else None


def shopper_required(view):
    """Send anonymous visitors to the login page, then back to the page they were on (never to a POST-only URL)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.method == "GET":
            next_url = request.get_full_path()
        else:
            messages.info(request, "Please log in or create an account first.")
            next_url = safe_next(request, request.POST.get("next")) or reverse("storefront:product-list")
        return redirect_to_login(next_url, login_url=reverse("storefront:login"))

    return wrapper


@dataclass(frozen=True)
class Pager:
    """Where a page sits in a list, with links to its neighbours that keep the other query parameters."""

    number: int
    num_pages: int
    count: int
    query: QueryDict

    def _url(self, number: int) -> str:
        query = self.query.copy()
        query["page"] = str(number)
        return "?" + query.urlencode()

    @property
    def previous_url(self) -> str | None:
        return self._url(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self._url(self.number + 1) if self.number < self.num_pages else None


def page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def paged(request: HttpRequest, per_page: int, fetch):
    """Call ``fetch(offset, limit)`` for the requested page (the last one if it asks beyond); return it and a Pager."""
    number = page_number(request)
    result = fetch((number - 1) * per_page, per_page)
    num_pages = max(1, math.ceil(result.count / per_page))
    if number > num_pages:
        number = num_pages
        result = fetch((number - 1) * per_page, per_page)
    return result, Pager(number=number, num_pages=num_pages, count=result.count, query=request.GET)


def throttle_wait(request: HttpRequest, scope: str = "auth") -> int | None:
    """The API's rate limit of ``scope`` (login/register by default; ``payment``: a user's payment attempts), with
    the same counters: seconds to wait, or None if allowed."""
    return seconds_until_allowed(request, scope)


def form_error(form, error: DomainError) -> None:
    """Show a domain error on the (visible) field it names, or above the form."""
    field = form.fields.get(error.attr) if error.attr else None
    form.add_error(error.attr if field is not None and not field.widget.is_hidden else None, error.message)


def auth_page(request, template: str, form, status: int = 200) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next")) or ""
    return render(request, template, {"form": form, "next": next_url}, status=status)


def throttled_page(request, template: str, form) -> HttpResponse | None:
    """The page refusing a login or registration past the API's rate limit (429), or None if allowed."""
    wait = throttle_wait(request)
    if wait is None:
        return None
    return too_many_attempts_page(request, template, form, wait)


def too_many_attempts_page(request, template: str, form, wait: int) -> HttpResponse:
    form.add_error(None, f"Too many attempts. Please try again in {wait} seconds.")
    response = auth_page(request, template, form, status=429)
    response["Retry-After"] = str(wait)
    return response
