"""Staff screens for orders: every change goes through orders.services and obeys the status machine."""

from django.contrib import admin, messages

from accounts import services as accounts
from ecommerce.errors import DomainError
from orders import services
from orders.models import Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["product_id", "name", "unit_price", "quantity", "line_total"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _order_action(name: str, description: str, done: str, change):
    """An admin action running ``change(order_id, actor_id)`` on each selected order, reporting refusals."""

    @admin.action(description=description, permissions=["change"])  # orders.change_order
    def action(modeladmin, request, queryset):
        succeeded = 0
        for order_id in queryset.values_list("id", flat=True):
            try:
                change(order_id, request.user.id)
                succeeded += 1
            except DomainError as error:
                modeladmin.message_user(request, f"Order {order_id}: {error.message}", messages.ERROR)
        if succeeded:
            modeladmin.message_user(request, f"{succeeded} order(s) {done}.", messages.SUCCESS)

    action.__name__ = name  # the admin tells actions apart by name
    return action


mark_shipped = _order_action(
    "mark_shipped",
    "Mark selected orders shipped",
    "marked shipped",
    lambda order_id, actor: services.change_order_status(order_id=order_id, status="shipped", actor_id=actor),
)
mark_delivered = _order_action(
    "mark_delivered",
    "Mark selected orders delivered",
    "marked delivered",
    lambda order_id, actor: services.change_order_status(order_id=order_id, status="delivered", actor_id=actor),
)
cancel = _order_action(
    "cancel",
    "Cancel selected orders (paid ones are refunded)",
    "cancelled",
    lambda order_id, actor: services.cancel_order(order_id=order_id, user_id=actor, is_staff=True),
)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user_id", "customer_email", "status", "total", "currency", "created_at", "paid_at"]
    list_filter = ["status", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["=id"]
    search_help_text = "Order id, or part of the customer's email."
    inlines = [OrderLineInline]
    actions = [mark_shipped, mark_delivered, cancel]
    readonly_fields = [f.name for f in Order._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term and not search_term.isdigit():
            results = queryset.filter(user_id__in=accounts.find_user_ids_by_email(query=search_term))
        return results, may_have_duplicates

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        users = accounts.get_users(user_ids={order.user_id for order in changelist.result_list})
        for order in changelist.result_list:  # one batch per page rather than a query per row
            order.customer = users.get(order.user_id)
        return changelist

    @admin.display(description="Customer")
    def customer_email(self, order: Order) -> str:
        customer = getattr(order, "customer", None) or accounts.get_users(user_ids=[order.user_id]).get(order.user_id)
        return customer.email if customer else ""
