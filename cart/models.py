from django.db import models
from django.db.models import Q

MAX_LINE_QUANTITY = 1000


class Cart(models.Model):
    """One cart per user; its row is also the lock that serializes changes to the user's cart."""

    user_id = models.BigIntegerField(unique=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"cart of user {self.user_id}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product_id"], name="cart_one_line_per_product"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_LINE_QUANTITY), name="cart_line_quantity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"


class TakenLines(models.Model):
    """The lines a checkout took out of a cart, kept until the order is placed (then forgotten) or the
    checkout fails (then they go back into the cart). The checkout's token identifies it in both apps."""

    token = models.UUIDField(primary_key=True)
    user_id = models.BigIntegerField(db_index=True)
    lines = models.JSONField(help_text="[[product_id, quantity], ...] as the cart held them.")
    taken_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"checkout {self.token} of user {self.user_id}"
