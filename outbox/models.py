"""The outbox's two tables. Each database an app writes to holds both, so that an event is written in
the transaction of the change that caused it, and a handler's effect is recorded with its event id in
the transaction of that effect."""

import uuid

from django.db import models


class OutboxEvent(models.Model):
    """An event an app published, kept until every handler of its type has applied it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # A delivery in progress holds the event until then; an expired lease means its deliverer died.
    leased_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(delivered_at__isnull=True), name="outbox_pending")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class HandledEvent(models.Model):
    """That one handler applied one event: written in the handler's own transaction, so it applies it once."""

    handler = models.CharField(max_length=100)
    event_id = models.UUIDField()
    handled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["handler", "event_id"], name="handled_event_once")]

    def __str__(self) -> str:
        return f"{self.handler} {self.event_id}"
