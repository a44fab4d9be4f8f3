import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        from orders import services as orders
        from outbox import services as outbox
        from payments import services
        from payments.services import charging

        orders.provide_refunder(services.refund_order_payment)
        # It calls the provider, so it runs outside any transaction (and is idempotent by itself).
        outbox.subscribe(
            "order.payment_rejected", charging.on_order_payment_rejected, app_label=self.label, atomic=False
        )
        if getattr(settings, "PAYMENT_GATEWAY", "dummy") == "dummy":
            logger.warning("PAYMENT_GATEWAY is 'dummy': payments are simulated offline and no money moves.")
