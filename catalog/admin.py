"""Staff screens for products: every save goes through catalog.services, so stock changes reach the ledger."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.http import HttpResponseRedirect

from catalog import selectors, services
from catalog.models import Product
from ecommerce.errors import DomainError

ADD_FIELDS = ["name", "description", "category", "sku", "price", "stock"]
CHANGE_FIELDS = [*ADD_FIELDS, "is_active", "created_at", "updated_at"]


class ProductForm(forms.ModelForm):
    stock = forms.IntegerField(
        min_value=0,
        max_value=services.MAX_STOCK,
        initial=0,
        # A change is detected against the value shown, so a save that leaves the field alone
        # does not overwrite stock sold in the meantime.
        show_hidden_initial=True,
        help_text="Units available to buy now. A change is saved through inventory and written to the stock ledger.",
    )

    class Meta:
        model = Product
        fields = ["name", "description", "category", "sku", "price", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["stock"] = selectors.available_stock(product_ids=[self.instance.pk])[self.instance.pk]


class ProductChangeList(ChangeList):
    """Reads the available stock of a whole page of products in one query."""

    def get_results(self, request):
        super().get_results(request)
        stock = selectors.available_stock(product_ids=[product.pk for product in self.result_list])
        for product in self.result_list:
            product.available_stock = stock[product.pk]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = ["id", "name", "sku", "category", "price", "stock", "is_active", "updated_at"]
    list_filter = ["category", "is_active"]
    search_fields = ["name", "sku"]
    ordering = ["id"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["deactivate_selected"]

    def get_fields(self, request, obj=None):
        return CHANGE_FIELDS if obj else ADD_FIELDS

    def get_changelist(self, request, **kwargs):
        return ProductChangeList

    def has_delete_permission(self, request, obj=None):
        return False  # products are deactivated, never deleted: orders refer to them

    @admin.display(description="Stock")
    def stock(self, product: Product) -> int:
        return product.available_stock

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            services.update_product(product_id=obj.pk, actor_id=request.user.pk, **changes)
        else:
            fields = {name: form.cleaned_data[name] for name in ADD_FIELDS}
            obj.pk = services.create_product(actor_id=request.user.pk, **fields).id
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:  # a rule only the service can check, e.g. a SKU taken a moment ago
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.action(description="Deactivate selected products", permissions=["change"])
    def deactivate_selected(self, request, queryset):
        product_ids = list(queryset.values_list("pk", flat=True))
        for product_id in product_ids:
            services.deactivate_product(product_id=product_id)
        self.message_user(request, f"{len(product_ids)} product(s) deactivated.", messages.SUCCESS)
