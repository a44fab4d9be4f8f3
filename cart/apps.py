from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "cart"

    def ready(self):
        from cart import services
        from outbox import services as outbox

        outbox.subscribe("account.deleted", services.on_account_deleted, app_label=self.label)
        outbox.subscribe("order.placed", services.on_order_placed, app_label=self.label)
