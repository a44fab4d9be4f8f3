"""The shop's account pages: the account itself, email verification, password change and reset, data
export and deletion. Thin views over accounts.services (and privacy.services for the export), with the
login's rate limit on every page that takes a password or sends an email."""

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as accounts
from ecommerce.errors import DomainError
from ecommerce.renderers import CamelCaseJSONRenderer
from ecommerce.urlpatterns import site_url
from privacy import services as privacy
from storefront.forms import DeleteAccountForm, ForgotPasswordForm, PasswordChangeForm, ResetPasswordForm, TokenForm
from storefront.pages import form_error, safe_next, shopper_required, throttle_wait


def _refused_too_often(request) -> HttpResponse | None:
    """A 429 page past the login's rate limit (shared with the API), or None if allowed."""
    wait = throttle_wait(request)
    if wait is None:
        return None
    response = render(
        request,
        "storefront/error.html",
        {"message": f"Too many attempts. Please try again in {wait} seconds."},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


@require_GET
@shopper_required
def account(request):
    return render(request, "storefront/account.html", {"account": accounts.get_user(user_id=request.user.id)})


def _form_page(request, template: str, form, act) -> HttpResponse:
    """A page with one form. A valid POST within the rate limit calls ``act(cleaned_data)`` for the next
    page; a domain error it raises shows on the form. Otherwise the page (400 when the form has errors)."""
    if request.method == "POST":
        refused = _refused_too_often(request)
        if refused is not None:
            return refused
        if form.is_valid():
            try:
                return act(form.cleaned_data)
            except DomainError as error:
                form_error(form, error)
    return render(request, template, {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def verify_email(request):
    """The link of the verification email: a button that confirms (a GET changes nothing: mail scanners open links)."""

    def confirm(data):
        accounts.verify_email(token=data["token"])
        messages.success(request, "Your email address is confirmed. Thank you!")
        return redirect("storefront:account" if request.user.is_authenticated else "storefront:login")

    form = TokenForm(request.POST if request.method == "POST" else {"token": request.GET.get("token", "")})
    return _form_page(request, "storefront/verify_email.html", form, confirm)


@require_POST
@shopper_required
def resend_verification(request):
    refused = _refused_too_often(request)
    if refused is not None:
        return refused
    try:
        accounts.send_verification_email(user_id=request.user.id, site_url=site_url(request))
    except accounts.EmailAlreadyVerified as error:
        messages.info(request, error.message)
    else:
        messages.success(request, "We have sent you a new link: check your email.")
    return redirect(safe_next(request, request.POST.get("next")) or "storefront:account")


@require_http_methods(["GET", "POST"])
@shopper_required
def change_password(request):
    def change(data):
        changed = accounts.change_password(user_id=request.user.id, **data, site_url=site_url(request))
        # A new session for this browser; every other one no longer matches the password and ends.
        login(request, authenticate(request, email=changed.email, password=data["new_password"]))
        messages.success(request, "Your password is changed. Your other sessions are signed out.")
        return redirect("storefront:account")

    form = PasswordChangeForm(request.POST if request.method == "POST" else None)
    return _form_page(request, "storefront/password_change.html", form, change)


@require_http_methods(["GET", "POST"])
def forgot_password(request):
    def send_link(data):  # the same page whether the email has an account or not
        accounts.request_password_reset(email=data["email"], site_url=site_url(request))
        return render(request, "storefront/check_email.html", {"email": data["email"], "reset": True})

    form = ForgotPasswordForm(request.POST if request.method == "POST" else None)
    return _form_page(request, "storefront/forgot_password.html", form, send_link)


@require_http_methods(["GET", "POST"])
def reset_password(request):
    """The link of the reset email: choose a new password (the token travels in a hidden field)."""

    def reset(data):
        accounts.reset_password(**data)
        messages.success(request, "Your password is changed. Log in with it.")
        return redirect("storefront:login")

    data = request.POST if request.method == "POST" else None
    form = ResetPasswordForm(data, initial={"token": request.GET.get("token", "")})
    return _form_page(request, "storefront/reset_password.html", form, reset)


@require_GET
@shopper_required
def export(request):
    """The API's export (``GET /auth/me/export``), the same JSON, as a file to keep."""
    data = CamelCaseJSONRenderer().render(privacy.export_account_data(user_id=request.user.id))
    response = HttpResponse(data, content_type="application/json")
    name = f"my-shop-data-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(["GET", "POST"])
@shopper_required
def delete_account(request):
    def delete(data):
        accounts.delete_account(user_id=request.user.id, password=data["password"])
        logout(request)
        messages.info(request, "Your account is deleted. Thank you for shopping with us.")
        return redirect("storefront:product-list")

    form = DeleteAccountForm(request.POST if request.method == "POST" else None)
    return _form_page(request, "storefront/delete_account.html", form, delete)
