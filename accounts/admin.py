from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from rest_framework_simplejwt.token_blacklist import admin as token_blacklist_admin
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["id"]
    list_display = ["id", "email", "name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]


class OutstandingTokenAdmin(token_blacklist_admin.OutstandingTokenAdmin):
    """simplejwt's read-only token list, without the token itself: whoever may read it could log in as its user."""

    exclude = ["token"]

    def get_readonly_fields(self, *args, **kwargs) -> list[str]:
        return [name for name in super().get_readonly_fields(*args, **kwargs) if name != "token"]


admin.site.unregister(OutstandingToken)
admin.site.register(OutstandingToken, OutstandingTokenAdmin)
