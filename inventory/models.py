from django.db import models
from django.db.models import F, Q


class StockItem(models.Model):
    """Stock of one product: on hand, and how much of it pending orders hold."""

    product_id = models.BigIntegerField(unique=True)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    listed = models.BooleanField(
        default=True, help_text="False while the catalogue hides the product: customers are not shown its stock."
    )

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
        ]

    def __str__(self) -> str:
        return f"product {self.product_id}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """One append-only ledger row; the sums of the deltas equal the current levels."""

    class Reason(models.TextChoices):
        INITIAL = "initial"
        RESTOCK = "restock"
        ADJUSTMENT = "adjustment"
        RESERVATION = "reservation"
        RELEASE = "release"
        SALE = "sale"
        RETURN = "return"

    product_id = models.BigIntegerField(db_index=True)
    on_hand_delta = models.IntegerField()
    reserved_delta = models.IntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="The user who made the change, if any.")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        deltas = f"on hand {self.on_hand_delta:+}, reserved {self.reserved_delta:+}"
        return f"{self.reason} product {self.product_id}: {deltas}"


class Reservation(models.Model):
    """Units of one product held for one order line until the order is paid, cancelled or expires."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        RELEASED = "released"
        SOLD = "sold"
        RETURNED = "returned"

    order_id = models.BigIntegerField(db_index=True)
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order_id", "product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_id", "product_id"],
                condition=Q(status__in=["active", "sold"]),
                name="reservation_one_live_per_order_product",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.quantity} x product {self.product_id} ({self.status})"
