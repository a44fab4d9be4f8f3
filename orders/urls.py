from ecommerce.urlpatterns import ID, route
from orders import api

urlpatterns = [
    route("", api.OrderListView.as_view(), "order-list"),
    route("checkout", api.CheckoutView.as_view(), "order-checkout"),
    route("shipping-methods", api.ShippingMethodListView.as_view(), "order-shipping-methods"),
    route(ID, api.OrderDetailView.as_view(), "order-detail"),
    route(rf"{ID}/cancel", api.OrderCancelView.as_view(), "order-cancel"),
    route(rf"{ID}/status", api.OrderStatusView.as_view(), "order-status"),
]
