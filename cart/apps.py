from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "cart"

    def ready(self):
        from cart import services
        from outbox import services as outbox

        outbox.subscribe("account.deleted", services.on_account_deleted, app_label=self.label)
        # Forgetting a checkout's lines twice changes nothing: no record of it is kept.
        outbox.subscribe("order.placed", services.on_order_placed, app_label=self.label, idempotent=True)
