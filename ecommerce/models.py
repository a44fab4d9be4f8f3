from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an ``Idempotency-Key``, replayed for retries."""

    user_id = models.BigIntegerField()
    scope = models.CharField(max_length=64, help_text="The operation, e.g. 'checkout'.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    completed = models.BooleanField(default=False)
    owner = models.CharField(
        max_length=32, blank=True, help_text="Random id of the attempt that holds the key while it runs."
    )
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="Until when the running attempt holds the key; then a retry may take it over."
    )
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "scope", "key"], name="idempotency_user_scope_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} (user {self.user_id})"
