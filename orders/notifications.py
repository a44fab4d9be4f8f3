"""Order emails: one per status change a customer hears about (placed, paid, shipped, cancelled, refunded).

They are driven by the events the apps exchange: each such change publishes ``order.status_changed`` to the
transactional outbox in the transaction that makes it, and the handler below sends its email once the change
has committed. The outbox applies a handler once per event: a delivery that failed (the mail server was down)
is retried by the relay (``manage.py relay_events``), and a concurrent deliverer waits for the event's lease.
A crash between the mail server accepting the email and the outbox recording it is the one case that can
repeat it.
"""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts import services as accounts
from catalog import services as catalog
from ecommerce.timezones import format_store_time
from orders.models import StatusChange
from outbox import services as outbox

STATUS_CHANGED = "order.status_changed"
# Status entered -> (subject, headline). Delivered orders get no email: the parcel has arrived.
EMAILS = {
    "pending": ("Order #{id} received", "Thank you! We have received your order #{id}."),
    "paid": ("Order #{id} is paid", "Your payment for order #{id} went through."),
    "shipped": ("Order #{id} is on its way", "Good news: order #{id} has been shipped."),
    "cancelled": ("Order #{id} is cancelled", "Order #{id} has been cancelled."),
    "refunded": ("Order #{id} is refunded", "Order #{id} has been refunded."),
}


def status_change_event(change: StatusChange, order=None) -> tuple[str, dict] | None:
    """The event (type, payload) of a status change the customer hears of, or None: publish it in the change's
    transaction (its email follows the commit). It carries what the email shows, so that sending it reads only the
    customer: of ``order`` (its OrderInfo as the change leaves it) when the caller has it, else read now."""
    if change.to_status not in EMAILS:
        return None
    if order is None:
        from orders.services import _order_for_email  # the services module publishes changes, this one reads orders

        order = _order_for_email(change.order_id)
    payload = {"status_change_id": change.pk, "order_id": change.order_id, "status": change.to_status}
    return STATUS_CHANGED, {**payload, "email": _email_data(change, order)}


def _email_data(change: StatusChange, order) -> dict:
    """What an email shows of a status change and its order (an OrderInfo), as JSON."""
    return {
        "at": change.at.isoformat(),
        "reason": change.reason,
        "user_id": order.user_id,
        "items": [[item.product_id, item.name, item.quantity, str(item.line_total)] for item in order.items],
        "subtotal": str(order.subtotal),
        "shipping": str(order.shipping),
        "total": str(order.total),
        "currency": order.currency,
        "expires_at": order.expires_at.isoformat(),
        "shipping_method": order.shipping_method.name if order.shipping_method else None,
        "shipping_address": order.shipping_address.as_dict() if order.shipping_address else None,
    }


def _absolute(url: str) -> str:
    """A picture's URL for a mail client: as the storage gives it when absolute (a CDN), else on PUBLIC_URL."""
    return url if url.startswith(("https://", "http://")) else f"{settings.PUBLIC_URL}{url}"


def _lines(items: list[dict]) -> list[dict]:
    """The order's lines, each with the absolute URL of its product's thumbnail ("" for none), in one query.

    Without ``PUBLIC_URL`` (the shop's address) an email cannot show pictures, and nothing is read for them.
    """
    pictures = {}
    if settings.PUBLIC_URL:
        pictures = catalog.get_product_images(product_ids=[item["product_id"] for item in items])
    thumbnails = {product_id: _absolute(images[0].thumbnail_url) for product_id, images in pictures.items()}
    return [{"item": item, "picture": thumbnails.get(item["product_id"], "")} for item in items]


def _message(order_id: int, status: str, email: dict) -> EmailMultiAlternatives | None:
    """The email, or None when its customer's account is closed (deleted: no address left; or deactivated)."""
    customer = accounts.get_user(user_id=email["user_id"])
    if not customer.is_active:
        return None
    subject, headline = (text.format(id=order_id) for text in EMAILS[status])
    items = [
        {"product_id": product_id, "name": name, "quantity": quantity, "line_total": Decimal(line_total)}
        for product_id, name, quantity, line_total in email["items"]
    ]
    order = {
        "id": order_id,
        "items": items,
        "subtotal": Decimal(email["subtotal"]),
        "shipping": Decimal(email["shipping"]),
        "total": Decimal(email["total"]),
        "shipping_method": {"name": email["shipping_method"]} if email["shipping_method"] is not None else None,
        "shipping_address": email["shipping_address"],
    }
    context = {
        "order": order,
        "lines": _lines(items),
        "customer": customer,
        "headline": headline,
        "status": status,
        "reason": email["reason"],
        "when": format_store_time(datetime.fromisoformat(email["at"])),
        "expires": format_store_time(datetime.fromisoformat(email["expires_at"])),
        "currency": email["currency"].upper(),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("orders/email/order_update.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[customer.email],
    )
    message.attach_alternative(render_to_string("orders/email/order_update.html", context), "text/html")
    return message


def send_status_email(event: outbox.Event) -> None:
    """The ``order.status_changed`` handler: email the customer. A mail server's error leaves the event to the relay.

    An event published before events carried what the email shows has it read now.
    """
    email = event.payload.get("email")
    if email is None:
        from orders.services import _order_for_email

        change = StatusChange.objects.get(pk=event.payload["status_change_id"])
        email = _email_data(change, _order_for_email(change.order_id))
    message = _message(event.payload["order_id"], event.payload["status"], email)
    if message is not None:
        message.send()
