from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class EcommerceConfig(AppConfig):
    name = "ecommerce"
    verbose_name = "Shared kernel"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from ecommerce import checks  # noqa: F401  (registers the deployment checks)
        from ecommerce.security import start_staff_session

        user_logged_in.connect(start_staff_session, dispatch_uid="ecommerce.security.start_staff_session")


class ShopAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the shop's site (ecommerce.admin.ShopAdminSite) as the default one."""

    default = False  # named in INSTALLED_APPS in place of "django.contrib.admin"
    default_site = "ecommerce.admin.ShopAdminSite"
