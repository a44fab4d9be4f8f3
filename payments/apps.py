import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from orders import services as orders
        from payments import services

        orders.provide_refunder(services.refund_order_payment)
        if getattr(settings, "PAYMENT_GATEWAY", "dummy") == "dummy":
            logger.warning("PAYMENT_GATEWAY is 'dummy': payments are simulated offline and no money moves.")
