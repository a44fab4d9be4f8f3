from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_tables(*, using: str, **kwargs) -> None:
    """Create the database cache's table (throttle counters without REDIS_URL) if it is missing.

    Runs after every ``migrate``, so a plain ``migrate`` sets up a deployment that can log people in,
    whatever the cache settings were when the database was first migrated.
    """
    call_command("createcachetable", database=using, verbosity=0)


class EcommerceConfig(AppConfig):
    name = "ecommerce"
    verbose_name = "Shared kernel"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from ecommerce import checks, remote  # noqa: F401  (checks registers the deployment checks)
        from ecommerce.security import start_staff_session

        user_logged_in.connect(start_staff_session, dispatch_uid="ecommerce.security.start_staff_session")

        remote.install()  # before the apps start: their ready() may hold on to a remote app's functions
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="ecommerce.apps.create_cache_tables")


class ShopAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the shop's site (ecommerce.admin.ShopAdminSite) as the default one."""

    default = False  # named in INSTALLED_APPS in place of "django.contrib.admin"
    default_site = "ecommerce.admin.ShopAdminSite"
