from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from orders import notifications, services
        from outbox import services as outbox

        # Marking an order paid may first reserve its stock again (inventory's own transaction): not one atomic.
        outbox.subscribe("payment.succeeded", services.on_payment_succeeded, app_label=self.label, atomic=False)
        outbox.subscribe("payment.refunded", services.on_payment_refunded, app_label=self.label)
        # Sending mail leaves the process: not in a transaction; the outbox records it as handled once it is sent.
        outbox.subscribe(
            notifications.STATUS_CHANGED, notifications.send_status_email, app_label=self.label, atomic=False
        )
