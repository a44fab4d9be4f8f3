"""The account emails (verification, sign-up attempts, password reset and change, deletion), sent after commit.

Their links open the shop's pages, where a person can act on them (by path: the process sending the email
may not serve the shop, which the same origin does); API clients take the ``token`` parameter from the link.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from ecommerce.db import on_commit

VERIFY_EMAIL_PAGE = "/shop/account/verify-email/"
RESET_PASSWORD_PAGE = "/shop/account/reset-password/"
SUBJECTS = {
    "verify_email": "Confirm your email address",
    "already_registered": "Someone tried to create an account with your email",
    "password_reset": "Reset your password",
    "password_changed": "Your password was changed",
    "account_deleted": "Your account is deleted",
}


def link(site_url: str, page: str, token: str) -> str:
    return f"{site_url}{page}?token={token}"


def send_account_email(*, to: str, template: str, context: dict) -> None:
    """Send ``accounts/email/<template>.txt`` to ``to`` once the current transaction commits."""
    body = render_to_string(f"accounts/email/{template}.txt", {"shop_name": settings.SHOP_NAME, **context})
    subject = f"{SUBJECTS[template]} ({settings.SHOP_NAME})"
    on_commit("accounts", lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to]))
