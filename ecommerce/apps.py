from django.apps import AppConfig


class EcommerceConfig(AppConfig):
    name = "ecommerce"
    verbose_name = "Shared kernel"

    def ready(self) -> None:
        from ecommerce import checks  # noqa: F401  (registers the deployment checks)
