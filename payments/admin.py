"""Staff screens for payments: read-only, since money only moves through payments.services."""

from django.contrib import admin

from ecommerce.admin import ReadOnlyAdmin
from payments.models import Payment, WebhookEvent


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "order_id", "user_id", "amount", "currency", "status", "provider", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["=order_id", "=provider_reference", "=idempotency_key"]
    # The card token is left out: staff have no use for it.
    fields = [
        "order_id",
        "user_id",
        "amount",
        "currency",
        "status",
        "provider",
        "provider_reference",
        "idempotency_key",
        "failure_code",
        "failure_message",
        "outcome_reported",
        "in_flight_until",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "received_at"]
    list_filter = ["type"]
    search_fields = ["=event_id"]
