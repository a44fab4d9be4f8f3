"""Staff screens for products: every save goes through catalog.services, and every stock change through
inventory.services, so it is in the stock ledger with the staff user and a reason.

The list fits a 1280 px screen, links each product by its name, and sets stock row by row (the difference
from the value shown is applied, so sales made meanwhile are kept). Stock changes need
``inventory.change_stockitem`` as well as the product permission, as in the API.
"""

import copy

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from accounts import services as accounts
from catalog import selectors, services
from catalog.models import Category, Product, ProductImage
from ecommerce.errors import DomainError
from inventory import services as inventory

ADD_FIELDS = ["name", "description", "category", "sku", "price", "stock"]
CHANGE_FIELDS = [*ADD_FIELDS, "stock_note", "is_active", "created_at", "updated_at"]
VIEW_FIELDS = [name for name in CHANGE_FIELDS if name not in ("stock", "stock_note")]
CHANGE_STOCK = "inventory.change_stockitem"


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
    stock_note = forms.CharField(
        label="Reason for a stock change",
        required=False,
        max_length=255,
        help_text="Written to the stock ledger with your name, e.g. “Stock count” or “Damaged in storage”.",
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
        may_change_stock = request.user.has_perm(CHANGE_STOCK)
        for product in self.result_list:
            product.available_stock = stock[product.pk]
            product.stock_editable = may_change_stock


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", f"Low ({settings.LOW_STOCK_THRESHOLD} or fewer)"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(pk__in=inventory.get_low_stock_product_ids(threshold=settings.LOW_STOCK_THRESHOLD))
        if self.value() == "out":
            return queryset.filter(pk__in=inventory.get_low_stock_product_ids(threshold=0))
        return queryset


class ProductImageForm(forms.ModelForm):
    """A picture row: a new one takes an upload, checked (decoded, renditions made) while the form is validated."""

    upload = forms.FileField(
        label="Picture",
        required=False,
        help_text=f"JPEG, PNG or WebP, at most {settings.PRODUCT_IMAGE_MAX_BYTES / 2**20:g} MB.",
    )
    position = forms.IntegerField(
        min_value=0, max_value=32767, required=False, help_text="Lowest first; empty: after the others."
    )

    class Meta:
        model = ProductImage
        fields = ["alt_text", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared = None
        if self.instance.pk:  # a picture is replaced by removing it and uploading another
            self.fields["upload"].disabled = True
            self.fields["upload"].widget = forms.HiddenInput()

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            return cleaned
        upload = cleaned.get("upload")
        if upload is None:
            self.add_error("upload", "Choose a picture to upload.")
            return cleaned
        try:
            self.prepared = services.prepare_image(upload)
        except DomainError as error:
            self.add_error("upload", error.message)
        return cleaned


class ProductImageInline(admin.TabularInline):
    """A product's pictures, saved through catalog.services (which makes the product pages show them at once).

    Staff who may change a product may change its pictures: they are part of it.
    """

    model = ProductImage
    form = ProductImageForm
    fields = ["preview", "upload", "alt_text", "position"]
    readonly_fields = ["preview"]
    extra = 1
    verbose_name = "picture"

    @admin.display(description="Preview")
    def preview(self, image: ProductImage):
        if not image.pk:
            return "—"
        return format_html('<img src="{}" alt="" width="120" height="90">', default_storage.url(image.thumbnail))

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("catalog.view_product") or self.has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("catalog.change_product")

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The managed list of categories: renaming one renames it on every product page at once."""

    list_display = ["name", "slug", "product_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="Products", ordering="product_count")
    def product_count(self, category: Category) -> int:
        return category.product_count


def _service_value(field: str, value):
    """A form's value as catalog.services takes it: a category by its slug ("" for none)."""
    if field == "category":
        return value.slug if value else ""
    return value


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = ["name", "sku", "category", "price", "stock", "is_active"]
    list_display_links = ["name"]
    list_select_related = ["category"]
    list_filter = [StockLevelFilter, "is_active", "category"]
    search_fields = ["name", "sku"]
    search_help_text = "Name or SKU."
    ordering = ["id"]
    list_per_page = 50
    readonly_fields = ["created_at", "updated_at"]
    actions = ["activate_selected", "deactivate_selected"]
    change_list_template = "admin/catalog/product/change_list.html"
    change_form_template = "admin/catalog/product/change_form.html"
    inlines = [ProductImageInline]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ADD_FIELDS
        if not self.has_change_permission(request, obj):
            return VIEW_FIELDS  # the stock fields are form fields, which a read-only page cannot show
        if not request.user.has_perm(CHANGE_STOCK):
            return [name for name in CHANGE_FIELDS if name != "stock_note"]  # stock is shown, disabled
        return CHANGE_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and not request.user.has_perm(CHANGE_STOCK) and "stock" in form.base_fields:
            stock = copy.copy(form.base_fields["stock"])  # the declared field is shared by every request's form class
            stock.disabled = True
            stock.help_text = "Your role cannot change stock (it needs inventory.change_stockitem)."
            form.base_fields["stock"] = stock
        return form

    def get_changelist(self, request, **kwargs):
        return ProductChangeList

    def has_delete_permission(self, request, obj=None):
        return False  # products are deactivated, never deleted: orders refer to them

    @admin.display(description="Stock")
    def stock(self, product: Product):
        shown = product.available_stock
        low = " low-stock" if shown <= settings.LOW_STOCK_THRESHOLD else ""
        if not product.stock_editable:
            return format_html('<span class="stock-level{}">{}</span>', low, shown)
        return format_html(
            '<span class="stock-editor">'
            '<input type="number" min="0" name="stock-{id}" value="{shown}" form="stock-form" class="stock-input{low}"'
            ' aria-label="Stock of {name}">'
            '<input type="hidden" name="shown-{id}" value="{shown}" form="stock-form">'
            '<input type="text" name="note-{id}" form="stock-form" maxlength="255" placeholder="Reason"'
            ' class="stock-note" aria-label="Reason for the stock change of {name}">'
            '<button type="submit" name="product" value="{id}" form="stock-form" class="button stock-save">Set</button>'
            "</span>",
            id=product.pk,
            shown=shown,
            low=low,
            name=product.name,
        )

    def get_urls(self):
        stock_view = self.admin_site.admin_view(self.set_stock_from_list)
        return [path("stock/", stock_view, name="catalog_product_stock"), *super().get_urls()]

    def set_stock_from_list(self, request):
        """POST from a row of the list: apply the difference between the value typed and the value shown."""
        if request.method != "POST" or not request.user.has_perm(CHANGE_STOCK):
            raise PermissionDenied
        back = request.POST.get("next") or reverse("admin:catalog_product_changelist")
        product_id = request.POST.get("product", "")
        try:
            wanted = int(request.POST.get(f"stock-{product_id}", ""))
            shown = int(request.POST.get(f"shown-{product_id}", ""))
            product = services.get_products(product_ids=[int(product_id)])[int(product_id)]
        except (ValueError, KeyError):
            self.message_user(request, "Type a whole number of units for a product of the list.", messages.ERROR)
            return HttpResponseRedirect(back)
        if wanted < 0:
            self.message_user(request, f"{product.name}: stock cannot go below 0.", messages.ERROR)
            return HttpResponseRedirect(back)
        note = request.POST.get(f"note-{product_id}", "").strip()[:255] or f"Set from {shown} to {wanted} in the list"
        try:
            level = inventory.adjust_stock(
                product_id=product.id, delta=wanted - shown, actor_id=request.user.id, note=note
            )
        except DomainError as error:
            self.message_user(request, f"{product.name}: {error.message}", messages.ERROR)
        else:
            self.message_user(request, f"{product.name}: {level.available} available now.", messages.SUCCESS)
        return HttpResponseRedirect(back)

    def save_model(self, request, obj, form, change):
        if change:
            changed = [name for name in form.changed_data if name != "stock_note"]
            changes = {name: _service_value(name, form.cleaned_data[name]) for name in changed}
            if "stock" in changes and not request.user.has_perm(CHANGE_STOCK):
                raise PermissionDenied
            services.update_product(
                product_id=obj.pk,
                actor_id=request.user.pk,
                stock_note=form.cleaned_data.get("stock_note", ""),
                **changes,
            )
        else:
            fields = {name: _service_value(name, form.cleaned_data[name]) for name in ADD_FIELDS}
            obj.pk = services.create_product(actor_id=request.user.pk, **fields).id
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        """Pictures go through catalog.services: new ones with the renditions made when their form was checked."""
        formset.save(commit=False)  # sorts the rows into new, changed and deleted; stores nothing
        for image in formset.deleted_objects:
            services.remove_product_image(image_id=image.pk)
        for image, _ in formset.changed_objects:
            services.update_product_image(image_id=image.pk, alt_text=image.alt_text, position=image.position or 0)
        for image_form in formset.forms:
            if image_form.prepared is not None and image_form not in formset.deleted_forms:
                services.add_product_image(
                    product_id=form.instance.pk,
                    image=image_form.prepared,
                    alt_text=image_form.cleaned_data["alt_text"],
                    position=image_form.cleaned_data["position"],
                )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id and object_id.isdigit():
            extra_context = {**self._ledger_context(int(object_id)), **(extra_context or {})}
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:  # a rule only the service can check, e.g. a SKU taken a moment ago
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @staticmethod
    def _ledger_context(product_id: int) -> dict:
        movements = inventory.list_stock_movements(product_id=product_id, limit=50)
        actors = accounts.get_users(user_ids={m.actor_id for m in movements if m.actor_id})
        return {
            "stock_movements": [
                {"movement": m, "actor": actors.get(m.actor_id) if m.actor_id else None} for m in movements
            ]
        }

    @admin.action(description="Activate selected products", permissions=["change"])
    def activate_selected(self, request, queryset):
        product_ids = list(queryset.filter(is_active=False).values_list("pk", flat=True))
        for product_id in product_ids:
            services.update_product(product_id=product_id, actor_id=request.user.id, is_active=True)
        self.message_user(request, f"{len(product_ids)} product(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected products", permissions=["change"])
    def deactivate_selected(self, request, queryset):
        product_ids = list(queryset.values_list("pk", flat=True))
        for product_id in product_ids:
            services.deactivate_product(product_id=product_id)
        self.message_user(request, f"{len(product_ids)} product(s) deactivated.", messages.SUCCESS)
