"""Staff screens for stock: every change goes through inventory.services, so it is in the ledger."""

from django import forms
from django.contrib import admin

from ecommerce.admin import ReadOnlyAdmin
from inventory import services
from inventory.models import Reservation, StockItem, StockMovement


class StockChangeForm(forms.ModelForm):
    adjust_by = forms.IntegerField(
        required=False, help_text="Add (restock) or remove units relative to the current on-hand stock."
    )
    note = forms.CharField(required=False, max_length=255, help_text="Why, for the ledger.")

    class Meta:
        model = StockItem
        fields = []


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    form = StockChangeForm
    list_display = ["product_id", "on_hand", "reserved", "available", "updated_at"]
    search_fields = ["=product_id"]
    readonly_fields = ["product_id", "on_hand", "reserved", "available", "updated_at"]
    fields = ["product_id", "on_hand", "reserved", "available", "updated_at", "adjust_by", "note"]

    def has_add_permission(self, request):
        return False  # stock items are created with their product

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        delta = form.cleaned_data.get("adjust_by")
        if delta:
            services.adjust_stock(
                product_id=obj.product_id, delta=delta, actor_id=request.user.id, note=form.cleaned_data["note"]
            )
            obj.refresh_from_db()

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["adjust_by"].validators.append(lambda delta: self._validate_delta(obj, delta))
        return form

    @staticmethod
    def _validate_delta(item: StockItem | None, delta: int | None) -> None:
        if item is not None and delta and item.available + delta < 0:
            raise forms.ValidationError(f"Only {item.available} units are available to remove.")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "product_id", "reason", "on_hand_delta", "reserved_delta", "order_id", "actor_id"]
    list_filter = ["reason"]
    search_fields = ["=product_id", "=order_id"]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "product_id", "quantity", "status", "expires_at"]
    list_filter = ["status"]
    search_fields = ["=order_id", "=product_id"]
