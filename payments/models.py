from django.db import models
from django.db.models import Q

from ecommerce.money import MoneyField


class Payment(models.Model):
    """One attempt to pay one order through a payment provider."""

    class Status(models.TextChoices):
        PROCESSING = "processing"  # sent (or about to be) to the provider; outcome not known yet
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REFUNDED = "refunded"

    class Provider(models.TextChoices):
        STRIPE = "stripe"
        DUMMY = "dummy"

    # Statuses of which an order may have at most one payment: one attempt in flight, then one success.
    LIVE_STATUSES = (Status.PROCESSING, Status.SUCCEEDED)

    order_id = models.BigIntegerField(db_index=True)
    user_id = models.BigIntegerField(db_index=True)
    amount = MoneyField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    provider_reference = models.CharField(
        max_length=255, blank=True, db_index=True, help_text="The provider's id of the payment, e.g. pi_..."
    )
    token = models.CharField(
        max_length=255,
        blank=True,
        help_text="The card token or payment method, kept while processing to replay the same charge request; "
        "cleared once the outcome is known.",
    )
    idempotency_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="Sent with every charge request of this payment, so that the provider charges at most once.",
    )
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    in_flight_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A request to the provider for this payment may be running until then; nobody else sends one.",
    )
    outcome_reported = models.BooleanField(
        default=False,
        help_text="An API response telling the payer of this success was sent (and may have been lost: a retry "
        "with the same Idempotency-Key still gets the payment). A success settled after the payer's request "
        "timed out is reported to the payer's next request.",
    )
    request_key = models.CharField(
        max_length=255,
        blank=True,
        help_text="The payer's Idempotency-Key for the request that started this payment: a retry with it whose "
        "first answer was lost gets this payment back.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_id"],
                condition=Q(status__in=["processing", "succeeded"]),
                name="payment_one_live_per_order",
                violation_error_message="This order already has a payment in progress or a successful payment.",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["processing", "succeeded", "failed", "refunded"]), name="payment_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} of order {self.order_id}: {self.amount} {self.currency} ({self.status})"


class WebhookEvent(models.Model):
    """A provider event that was applied, so that a redelivery of it is not applied again."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
