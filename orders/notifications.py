"""Order emails: one per status change a customer hears about (placed, paid, shipped, cancelled, refunded).

Each such change writes an ``OrderEmail`` row in the transaction that makes it (the order's own outbox).
After the commit the email is sent; a row is claimed before sending and marked sent after, so neither a
retry (``manage.py send_order_emails``) nor a concurrent sender sends it a second time. A crash between
the mail server accepting the email and the row being marked sent is the one case that can repeat it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import services as accounts
from ecommerce.timezones import format_store_time
from orders.models import OrderEmail, StatusChange

logger = logging.getLogger(__name__)

# Status entered -> (subject, headline). Delivered orders get no email: the parcel has arrived.
EMAILS = {
    "pending": ("Order #{id} received", "Thank you! We have received your order #{id}."),
    "paid": ("Order #{id} is paid", "Your payment for order #{id} went through."),
    "shipped": ("Order #{id} is on its way", "Good news: order #{id} has been shipped."),
    "cancelled": ("Order #{id} is cancelled", "Order #{id} has been cancelled."),
    "refunded": ("Order #{id} is refunded", "Order #{id} has been refunded."),
}
CLAIM = timedelta(minutes=5)  # a sender that dies while sending leaves the email to a retry after this


def queue_email(change: StatusChange) -> None:
    """Write the email of a status change, in the change's transaction, and send it once that commits."""
    if change.to_status not in EMAILS:
        return
    email = OrderEmail.objects.create(status_change=change)
    transaction.on_commit(lambda: send_email(email.pk), robust=True)


def _claim(email_id: int) -> bool:
    now = timezone.now()
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    return bool(
        OrderEmail.objects.filter(unclaimed, pk=email_id, sent_at__isnull=True).update(claimed_until=now + CLAIM)
    )


def _message(email: OrderEmail) -> EmailMultiAlternatives:
    from orders.services import get_order  # the services module writes emails, and this module reads orders

    change = email.status_change
    order = get_order(order_id=change.order_id)
    customer = accounts.get_user(user_id=order.user_id)
    subject, headline = (text.format(id=order.id) for text in EMAILS[change.to_status])
    context = {
        "order": order,
        "customer": customer,
        "headline": headline,
        "status": change.to_status,
        "reason": change.reason,
        "when": format_store_time(change.at),
        "expires": format_store_time(order.expires_at),
        "currency": order.currency.upper(),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("orders/email/order_update.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[customer.email],
    )
    message.attach_alternative(render_to_string("orders/email/order_update.html", context), "text/html")
    return message


def send_email(email_id: int) -> bool:
    """Send one queued order email unless it was sent or another sender holds it; True if this call sent it.

    A failure to send is logged and leaves the email queued for ``send_pending_emails``.
    """
    if not _claim(email_id):
        return False
    email = OrderEmail.objects.select_related("status_change").get(pk=email_id)
    try:
        _message(email).send()
    except Exception:  # the mail server's trouble must not undo the order change: a retry sends it later
        logger.exception("Order email %s could not be sent; it stays queued.", email_id)
        OrderEmail.objects.filter(pk=email_id).update(claimed_until=None, attempts=email.attempts + 1)
        return False
    OrderEmail.objects.filter(pk=email_id).update(sent_at=timezone.now(), claimed_until=None)
    return True


def send_pending_emails() -> int:
    """Send every queued order email not sent yet (after a mail server outage or a crash); how many were sent."""
    pending = OrderEmail.objects.filter(sent_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    return sum(send_email(email_id) for email_id in pending)
