from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"

    def ready(self) -> None:
        from inventory import services
        from outbox import services as outbox

        outbox.subscribe("order.paid", services.on_order_paid, app_label=self.label)
        outbox.subscribe("order.cancelled", services.on_order_cancelled, app_label=self.label)
        outbox.subscribe("order.refunded", services.on_order_refunded, app_label=self.label)
