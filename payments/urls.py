from ecommerce.urlpatterns import route
from payments import api

urlpatterns = [
    route("", api.PaymentsView.as_view(), "payment-list"),
    route("webhook", api.PaymentWebhookView.as_view(), "payment-webhook"),
]
