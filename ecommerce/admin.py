"""Admin building blocks shared by the apps' staff screens."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A screen to look at records that only services may write (ledgers, payments)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
