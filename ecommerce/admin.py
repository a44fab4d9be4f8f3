"""Admin building blocks shared by the apps' staff screens, and the shop-branded admin site."""

from django.conf import settings
from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A screen to look at records that only services may write (ledgers, payments)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """Internal tables (token blacklist, idempotency records, outbox): superusers only, whatever a role grants."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self.has_module_permission(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request) and super().has_delete_permission(request, obj)


class ShopAdminSite(admin.AdminSite):
    """The admin under the shop's name (``ADMIN_SITE_HEADER``, default ``SHOP_NAME``), with a dashboard index.

    Models of the apps in ``ADMIN_SUPERUSER_ONLY_APPS`` and the models in ``ADMIN_SUPERUSER_ONLY_MODELS``
    ("app_label.model") are shown to superusers only, whichever app registers them.
    """

    index_template = "admin/shop_index.html"
    # The app list is on the index and the breadcrumbs lead back to it; at 1280 px the sidebar's 280 px
    # are better spent on the lists' columns.
    enable_nav_sidebar = False

    @property
    def site_header(self) -> str:
        return settings.ADMIN_SITE_HEADER

    @property
    def site_title(self) -> str:
        return settings.ADMIN_SITE_HEADER

    index_title = "Today in the shop"

    def register(self, model_or_iterable, admin_class=None, **options):
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        for model in models:
            cls = admin_class or admin.ModelAdmin
            if _superuser_only(model) and not issubclass(cls, SuperuserOnlyAdmin):
                cls = type(f"SuperuserOnly{cls.__name__}", (SuperuserOnlyAdmin, cls), {})
            super().register(model, cls, **options)


def _superuser_only(model) -> bool:
    return (
        model._meta.app_label in settings.ADMIN_SUPERUSER_ONLY_APPS
        or model._meta.label_lower in settings.ADMIN_SUPERUSER_ONLY_MODELS
    )
