"""The provider events already applied, so that each is applied once."""

from django.db import IntegrityError

from ecommerce.db import atomic
from payments.gateways import ProviderEvent
from payments.models import WebhookEvent


def record_event(event: ProviderEvent) -> bool:
    """Note that an event is applied, in the caller's transaction; False if it was already."""
    try:
        with atomic("payments"):
            WebhookEvent.objects.create(event_id=event.id, type=event.type)
    except IntegrityError:
        return False
    return True


def record_event_alone(event: ProviderEvent) -> None:
    """Note that an event is applied (one that changes nothing of ours)."""
    with atomic("payments"):
        record_event(event)


def already_applied(event: ProviderEvent) -> bool:
    """Whether the event was applied before."""
    return WebhookEvent.objects.filter(event_id=event.id).exists()
