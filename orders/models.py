from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from ecommerce.money import MoneyField

MAX_SHIPPING_PRICE = Decimal("99999.99")
HALF_CENT = Decimal("0.005")


class ShippingMethod(models.Model):
    """A way to ship an order, at a flat price, free for orders of at least ``free_over`` (if set). Staff edit these."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True, help_text="E.g. the delivery time.")
    price = MoneyField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_SHIPPING_PRICE)],
    )
    free_over = MoneyField(
        "free from subtotal",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Orders whose subtotal is at least this ship free; empty: never free.",
    )
    is_active = models.BooleanField(default=True, help_text="Only active methods are offered at checkout.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Methods are listed by this, then by name.")

    class Meta:
        ordering = ["position", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="shipping_method_price_not_negative"),
            models.CheckConstraint(
                condition=Q(free_over__isnull=True) | Q(free_over__gte=0), name="shipping_method_threshold_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class PlacedOrderManager(models.Manager):
    """Orders whose checkout finished (stock held): the only ones anyone sees or acts on."""

    def get_queryset(self):
        return super().get_queryset().filter(placed=True)


class Order(models.Model):
    Status = OrderStatus

    class CancelledBy(models.TextChoices):
        EXPIRY = "expiry"
        CUSTOMER = "customer"
        STAFF = "staff"

    user_id = models.BigIntegerField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    subtotal = MoneyField(max_digits=12, decimal_places=2)
    total = MoneyField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="A pending order holds its stock until then.")
    cancelled_by = models.CharField(max_length=16, choices=CancelledBy.choices, blank=True)
    shipping = MoneyField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    shipping_method = models.ForeignKey(
        ShippingMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shipping_method_name = models.CharField(max_length=100, blank=True, help_text="As it was called at checkout.")
    shipping_address = models.JSONField(
        null=True, blank=True, help_text="A copy of the delivery address given at checkout; none: no delivery."
    )
    # Checkout writes the order (not placed), then inventory holds its stock, then the order is placed. The
    # token names that checkout in every app (the cart's taken lines); a retry of it finds this order.
    checkout_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    placed = models.BooleanField(default=True, help_text="False while its checkout has not held its stock yet.")

    checkouts = models.Manager()  # every order, placed or not: for checkout and its recovery only
    objects = PlacedOrderManager()

    class Meta:
        default_manager_name = "objects"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="order_status_expiry_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0) & Q(subtotal__gte=0), name="order_totals_not_negative"),
            models.CheckConstraint(condition=Q(shipping__gte=0), name="order_shipping_not_negative"),
            # Within half a cent: SQLite adds decimals as floating point (PostgreSQL is exact).
            models.CheckConstraint(
                condition=Q(total__gte=F("subtotal") + F("shipping") - HALF_CENT)
                & Q(total__lte=F("subtotal") + F("shipping") + HALF_CENT),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["paid", "shipped", "delivered"]) | Q(paid_at__isnull=False),
                name="order_paid_has_paid_at",
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.id} ({self.status})"


class OrderLine(models.Model):
    """A snapshot of a cart line at checkout: later price or name changes do not alter it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField(db_index=True)
    name = models.CharField(max_length=200)
    unit_price = MoneyField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = MoneyField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product_id"], name="order_one_line_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class StatusChange(models.Model):
    """One entry of an order's timeline: a status it entered, when, and who or what moved it there."""

    class Actor(models.TextChoices):
        CUSTOMER = "customer"
        STAFF = "staff"
        PAYMENT_PROVIDER = "payment_provider"
        EXPIRY_JOB = "expiry_job"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(
        max_length=16, choices=Order.Status.choices, blank=True, help_text="Empty for the order's creation."
    )
    to_status = models.CharField(max_length=16, choices=Order.Status.choices)
    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=20, choices=Actor.choices)
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="The customer or staff user, if a person.")
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_status=models.F("to_status")), name="order_change_moves_status"),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.from_status or 'new'} -> {self.to_status} ({self.actor})"


class CustomerCheckoutLock(models.Model):
    """One row per customer who has checked out, locked while a checkout checks the caps on the customer's
    unpaid orders and writes its order: two checkouts of one customer cannot both pass the caps."""

    user_id = models.PositiveBigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"checkout lock of user {self.user_id}"
