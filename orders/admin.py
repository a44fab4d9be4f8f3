"""Staff screens for orders: every change goes through orders.services and obeys the status machine.

The order page is a workspace: customer, lines, totals, payments, timeline, and a button for each
transition the status machine allows now (each asks for confirmation, then calls the same service
as the API). Nothing on it is saved by a form, so it has no save buttons. Every change needs
``orders.change_order``, in actions and on the page alike.
"""

import contextlib

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts import services as accounts
from ecommerce.errors import DomainError
from orders import services
from orders.models import Order, OrderLine, ShippingMethod

CHANGE_ORDERS = "orders.change_order"
Status = Order.Status

# target status -> (button, confirmation question, message when done)
TRANSITIONS = {
    Status.SHIPPED: ("Mark shipped", "Mark order {id} shipped?", "Order {id} marked shipped."),
    Status.DELIVERED: ("Mark delivered", "Mark order {id} delivered?", "Order {id} marked delivered."),
    Status.CANCELLED: (
        "Cancel order",
        "Cancel order {id}? Its reserved stock is released and the customer can no longer pay it.",
        "Order {id} cancelled.",
    ),
    Status.REFUNDED: (
        "Refund",
        "Refund order {id}? {total} is refunded through the payment provider and the stock returned.",
        "Order {id} refunded.",
    ),
}


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["product_id", "name", "unit_price", "quantity", "line_total"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
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
    lambda order_id, actor: services.change_order_status(order_id=order_id, status=Status.SHIPPED, actor_id=actor),
)
mark_delivered = _order_action(
    "mark_delivered",
    "Mark selected orders delivered",
    "marked delivered",
    lambda order_id, actor: services.change_order_status(order_id=order_id, status=Status.DELIVERED, actor_id=actor),
)
cancel = _order_action(
    "cancel",
    "Cancel selected orders (paid ones are refunded)",
    "cancelled",
    lambda order_id, actor: services.cancel_order(order_id=order_id, user_id=actor, is_staff=True),
)


class CreatedOnFilter(admin.DateFieldListFilter):
    title = "placed"


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_number", "customer", "status", "total_amount", "created_at", "paid_at"]
    list_display_links = ["order_number"]
    list_filter = ["status", ("created_at", CreatedOnFilter)]
    date_hierarchy = "created_at"
    search_fields = ["=id"]
    search_help_text = "Order id, or part of the customer's email."
    list_per_page = 50
    inlines = [OrderLineInline]
    actions = [mark_shipped, mark_delivered, cancel]
    change_form_template = "admin/orders/order/workspace.html"
    fields: list[str] = []  # the workspace template shows the order; there is nothing to edit

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The list's actions need the permission; an order's page is never a form (transitions are buttons).
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")  # "#42" as the list shows it, or 42
        results, may_have_duplicates = super().get_search_results(request, queryset, term)
        if term and not term.isdigit():
            results = queryset.filter(user_id__in=accounts.find_user_ids_by_email(query=term))
        return results, may_have_duplicates

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        users = accounts.get_users(user_ids={order.user_id for order in changelist.result_list})
        for order in changelist.result_list:  # one batch per page rather than a query per row
            order.customer_info = users.get(order.user_id)
        return changelist

    @admin.display(description="Order", ordering="id")
    def order_number(self, order: Order) -> str:
        return f"#{order.id}"

    @admin.display(description="Customer")
    def customer(self, order: Order) -> str:
        info = getattr(order, "customer_info", None)
        if info is None:
            return f"user {order.user_id}"
        return format_html("{}<br><small>{}</small>", info.name, info.email)

    @admin.display(description="Total", ordering="total")
    def total_amount(self, order: Order) -> str:
        return f"{order.total} {order.currency.upper()}"

    # --- The workspace -------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:order_id>/transition/<str:target>/",
                self.admin_site.admin_view(self.transition_view),
                name="orders_order_transition",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {}
        if object_id and object_id.isdigit():
            with contextlib.suppress(DomainError):  # unknown order: the admin's own "not found" answer follows
                context = self._workspace_context(request, services.get_order(order_id=int(object_id)))
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def _workspace_context(self, request, order: services.OrderInfo) -> dict:
        customer = accounts.get_users(user_ids=[order.user_id]).get(order.user_id)
        may_change = request.user.has_perm(CHANGE_ORDERS)
        transitions = [
            {"target": target, "label": TRANSITIONS[target][0], "url": self._transition_url(order.id, target)}
            for target in services.staff_transitions(status=order.status)
        ]
        return {
            "order": order,
            "customer": customer,
            "customer_url": reverse("admin:accounts_user_change", args=[order.user_id])
            if customer and request.user.has_perm("accounts.view_user")
            else None,
            "transitions": transitions if may_change else [],
            "transitions_need_permission": bool(transitions) and not may_change,
        }

    @staticmethod
    def _transition_url(order_id: int, target: str) -> str:
        return reverse("admin:orders_order_transition", args=[order_id, target])

    def transition_view(self, request, order_id: int, target: str):
        """GET: ask for confirmation. POST: move the order through orders.services, then back to its page."""
        if not request.user.has_perm(CHANGE_ORDERS):
            raise PermissionDenied
        order_url = reverse("admin:orders_order_change", args=[order_id])
        try:
            order = services.get_order(order_id=order_id)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:orders_order_changelist"))
        if target not in TRANSITIONS:
            raise Http404("No such transition.")
        label, question, done = TRANSITIONS[target]
        if request.method == "POST":
            try:
                services.change_order_status(order_id=order_id, status=target, actor_id=request.user.id)
            except DomainError as error:
                self.message_user(request, f"Order {order_id} was not changed: {error.message}", messages.ERROR)
            else:
                self.message_user(request, done.format(id=order_id), messages.SUCCESS)
            return HttpResponseRedirect(order_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{label}: order {order_id}",
            "order": order,
            "label": label,
            "question": question.format(id=order_id, total=f"{order.total} {order.currency.upper()}"),
            "allowed": target in services.staff_transitions(status=order.status),
            "order_url": order_url,
        }
        return TemplateResponse(request, "admin/orders/order/confirm_transition.html", context)


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    """Staff set the shipping prices; orders keep the price and name they were placed with."""

    list_display = ["name", "description", "price", "free_over", "is_active", "position"]
    list_editable = ["price", "free_over", "is_active", "position"]
    list_filter = ["is_active"]
