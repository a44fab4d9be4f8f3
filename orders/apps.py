from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from orders import services
        from outbox import services as outbox

        # Marking an order paid may first reserve its stock again (inventory's own transaction): not one atomic.
        outbox.subscribe("payment.succeeded", services.on_payment_succeeded, app_label=self.label, atomic=False)
        outbox.subscribe("payment.refunded", services.on_payment_refunded, app_label=self.label)
